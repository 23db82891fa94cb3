"""Typed, validated view of params.yaml.

Every stage reads its section through `load_params()`, so a typo'd key or an out-of-range value
fails in a second with a one-line message instead of after an hour of training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textclf.errors import ParamsError
from textclf.typed_yaml import build, load_yaml_as, short

__all__ = ["ParamsError", "short"]  # re-exported: stages and tests catch it from here

PARAMS_FILE = "params.yaml"
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DATA_FORMATS = ("auto", "csv", "tsv", "jsonl", "parquet")
# validation metrics the train stage can keep the best epoch by (single- and multi-label)
BEST_METRICS = ("loss", "accuracy", "f1_macro", "f1_micro")


@dataclass(frozen=True)
class DataParams:
    train_url: str
    test_url: str
    classes: list[str] | None
    validation_url: str | None = None
    format: str = "auto"
    header: bool = False
    columns: list[str] | None = field(default_factory=lambda: ["label", "title", "description"])
    text_columns: list[str] = field(default_factory=lambda: ["title", "description"])
    label_column: str = "label"
    label_offset: int = 1
    clean_backslashes: bool = True
    multi_label: bool = False
    label_separator: str = "|"

    def check(self) -> None:
        if not self.label_separator or self.label_separator.strip() != self.label_separator:
            raise ParamsError(
                f"data.label_separator must be a non-blank string without surrounding spaces, "
                f"got {short(self.label_separator)}"
            )
        if self.format not in DATA_FORMATS:
            raise ParamsError(
                f"data.format must be one of {', '.join(DATA_FORMATS)}, got {short(self.format)}"
            )
        if self.classes is not None:
            if len(self.classes) < 2:
                raise ParamsError(
                    f"data.classes must list at least two class names, got {short(self.classes)}"
                )
            repeated = sorted({name for name in self.classes if self.classes.count(name) > 1})
            if repeated:
                raise ParamsError(f"data.classes must be unique, repeated: {', '.join(repeated)}")
        if not self.text_columns:
            raise ParamsError("data.text_columns must name at least one column")
        if self.label_column in self.text_columns:
            raise ParamsError(
                f"data.label_column {self.label_column!r} is also in data.text_columns"
            )


@dataclass(frozen=True)
class PrepareParams:
    validation_size: float = 0.1
    seed: int = 1122
    max_train_rows: int | None = None
    max_validation_rows: int | None = None
    max_test_rows: int | None = None

    def check(self) -> None:
        if not 0 < self.validation_size < 1:
            raise ParamsError(
                f"prepare.validation_size must be between 0 and 1 (exclusive), "
                f"got {self.validation_size}"
            )
        for name in ("max_train_rows", "max_validation_rows", "max_test_rows"):
            _check_positive(f"prepare.{name}", getattr(self, name), allow_none=True)


@dataclass(frozen=True)
class ModelParams:
    name: str = "bert-base-cased"

    def check(self) -> None:
        if not self.name.strip():
            raise ParamsError("model.name must be a hub id or a local directory, got ''")


TRUNCATIONS = ("head", "head_tail", "chunks")


@dataclass(frozen=True)
class TokenizeParams:
    max_length: int | None = None
    truncation: str = "head"
    chunk_overlap: float = 0.25
    num_proc: int | None = None
    shard_rows: int = 1_000_000

    def check(self) -> None:
        _check_positive("tokenize.max_length", self.max_length, allow_none=True)
        _check_positive("tokenize.num_proc", self.num_proc, allow_none=True)
        _check_positive("tokenize.shard_rows", self.shard_rows)
        if self.truncation not in TRUNCATIONS:
            raise ParamsError(
                f"tokenize.truncation must be one of {', '.join(TRUNCATIONS)}, "
                f"got {short(self.truncation)}"
            )
        if not 0 <= self.chunk_overlap < 1:
            raise ParamsError(f"tokenize.chunk_overlap must be in [0, 1), got {self.chunk_overlap}")


@dataclass(frozen=True)
class TrainParams:
    seed: int = 42
    epochs: float = 2
    batch_size: int = 24
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.0
    sampling: str = "random"
    logging_steps: int = 25
    save_steps: int = 500
    processes: int = 1
    precision: str = "auto"
    report_to: list[str] = field(default_factory=lambda: ["dvclive"])
    threshold: float = 0.5
    class_weights: str = "none"
    load_best: bool = False
    best_metric: str = "loss"
    early_stopping_patience: int | None = None
    max_steps: int | None = None

    def check(self) -> None:
        if not 0 < self.threshold < 1:
            raise ParamsError(f"train.threshold must be between 0 and 1, got {self.threshold}")
        if self.class_weights not in ("none", "balanced"):
            raise ParamsError(
                f"train.class_weights must be 'none' or 'balanced', got {short(self.class_weights)}"
            )
        if self.best_metric not in BEST_METRICS:
            raise ParamsError(
                f"train.best_metric must be one of {', '.join(BEST_METRICS)}, "
                f"got {short(self.best_metric)}"
            )
        _check_positive(
            "train.early_stopping_patience", self.early_stopping_patience, allow_none=True
        )
        _check_positive("train.epochs", self.epochs)
        _check_positive("train.max_steps", self.max_steps, allow_none=True)
        _check_positive("train.batch_size", self.batch_size)
        _check_positive("train.learning_rate", self.learning_rate)
        _check_positive("train.logging_steps", self.logging_steps)
        _check_positive("train.save_steps", self.save_steps)
        _check_positive("train.processes", self.processes)
        _check_precision("train.precision", self.precision)
        if self.weight_decay < 0:
            raise ParamsError(f"train.weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.warmup_ratio < 1:
            raise ParamsError(f"train.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.sampling not in ("random", "group_by_length", "bucketed"):
            raise ParamsError(
                f"train.sampling must be 'random', 'group_by_length' or 'bucketed', "
                f"got {short(self.sampling)}"
            )


@dataclass(frozen=True)
class EvaluateParams:
    batch_size: int = 64
    precision: str = "auto"
    mistakes_per_class: int = 5

    def check(self) -> None:
        _check_positive("evaluate.batch_size", self.batch_size)
        _check_precision("evaluate.precision", self.precision)
        if self.mistakes_per_class < 0:
            raise ParamsError(
                f"evaluate.mistakes_per_class must be >= 0, got {self.mistakes_per_class}"
            )


@dataclass(frozen=True)
class BaselineParams:
    features: list[str] = field(default_factory=lambda: ["tfidf"])
    ngram_max: int = 2
    min_df: int = 2
    C: float = 10.0
    max_iter: int = 1000
    vectors: str | None = None
    max_train_rows: int | None = None

    def check(self) -> None:
        unknown = sorted(set(self.features) - {"tfidf", "glove"})
        if not self.features or unknown:
            raise ParamsError(
                f"baseline.features must be a non-empty list of 'tfidf' and/or 'glove', "
                f"got {short(self.features)}"
            )
        if "glove" in self.features and not (self.vectors and Path(self.vectors).is_file()):
            raise ParamsError(
                f"baseline.vectors must name an existing GloVe-format text file when "
                f"baseline.features has 'glove', got {short(self.vectors)}"
            )
        for name in ("ngram_max", "min_df", "C", "max_iter"):
            _check_positive(f"baseline.{name}", getattr(self, name))
        _check_positive("baseline.max_train_rows", self.max_train_rows, allow_none=True)


@dataclass(frozen=True)
class ExportParams:
    opset: int = 18
    quantize: bool = True
    check_rows: int = 256

    def check(self) -> None:
        if not 18 <= self.opset <= 23:  # what torch.onnx.export (dynamo) and ONNX Runtime share
            raise ParamsError(f"export.opset must be between 18 and 23, got {self.opset}")
        _check_positive("export.check_rows", self.check_rows)


@dataclass(frozen=True)
class CardParams:
    language: str = "en"
    dataset_name: str = "AG News"
    dataset_id: str | None = None
    license: str | None = None

    def check(self) -> None:
        for key in ("language", "dataset_name"):
            if not getattr(self, key).strip():
                raise ParamsError(f"card.{key} must not be empty")


@dataclass(frozen=True)
class Params:
    data: DataParams
    prepare: PrepareParams = field(default_factory=PrepareParams)
    model: ModelParams = field(default_factory=ModelParams)
    tokenize: TokenizeParams = field(default_factory=TokenizeParams)
    train: TrainParams = field(default_factory=TrainParams)
    evaluate: EvaluateParams = field(default_factory=EvaluateParams)
    baseline: BaselineParams = field(default_factory=BaselineParams)
    export: ExportParams = field(default_factory=ExportParams)
    card: CardParams = field(default_factory=CardParams)


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate params.yaml; raise ParamsError naming the first bad key and its line."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path} not found: run stages from the repository root")
    return load_yaml_as(Params, path)


def parse_params(raw: Any) -> Params:
    return build(Params, raw)


def _check_positive(key: str, value: float | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ParamsError(f"{key} must be > 0, got {value}")


def _check_precision(key: str, value: str) -> None:
    if value not in PRECISIONS:
        raise ParamsError(f"{key} must be one of {', '.join(PRECISIONS)}, got {short(value)}")
