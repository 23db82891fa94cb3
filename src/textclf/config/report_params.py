"""params.yaml's `evaluate`, `baseline`, `export` and `card` sections: what is measured and
shipped after training."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from textclf.config.checks import check_compile, check_positive, check_precision
from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short


@dataclass(frozen=True)
class EvaluateParams:
    batch_size: int = 64
    precision: str = "auto"
    mistakes_per_class: int = 5
    compile: str = "auto"

    def check(self) -> None:
        check_positive("evaluate.batch_size", self.batch_size)
        check_compile("evaluate.compile", self.compile)
        check_precision("evaluate.precision", self.precision)
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
            check_positive(f"baseline.{name}", getattr(self, name))
        check_positive("baseline.max_train_rows", self.max_train_rows, allow_none=True)


@dataclass(frozen=True)
class ExportParams:
    opset: int = 18
    quantize: bool = True
    check_rows: int = 256

    def check(self) -> None:
        if not 18 <= self.opset <= 23:  # what torch.onnx.export (dynamo) and ONNX Runtime share
            raise ParamsError(f"export.opset must be between 18 and 23, got {self.opset}")
        check_positive("export.check_rows", self.check_rows)


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, as the Hub reads it


@dataclass(frozen=True)
class CardParams:
    language: str = "en"
    dataset_name: str | None = None  # null: AG News for the default files, else the file name
    dataset_id: str | None = None
    license: str | None = None

    def check(self) -> None:
        for key in ("language", "dataset_name", "dataset_id", "license"):
            value = getattr(self, key)
            if value is not None and any(char in value for char in "\r\n"):
                raise ParamsError(f"card.{key} must be one line (it goes into the card's YAML)")
        if not LANGUAGE_CODE.match(self.language):
            raise ParamsError(
                f"card.language must be a language code such as en, de or pt-BR, got "
                f"{short(self.language)}"
            )
        if self.dataset_name is not None and not self.dataset_name.strip():
            raise ParamsError("card.dataset_name must not be empty (null: from data.train_url)")
