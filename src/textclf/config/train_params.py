"""params.yaml's `train` section: how the model is fine-tuned."""

from __future__ import annotations

from dataclasses import dataclass, field

from textclf.config.checks import check_compile, check_positive, check_precision, check_seed
from textclf.config.class_weights_params import ClassWeightsChoice, check_class_weights
from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short

# validation metrics the train stage can keep the best epoch by (single- and multi-label)
BEST_METRICS = ("loss", "accuracy", "f1_macro", "f1_micro")


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
    class_weights: str = ClassWeightsChoice.class_weights
    load_best: bool = False
    best_metric: str = "loss"
    early_stopping_patience: int | None = None
    max_steps: int | None = None
    min_steps: int | None = 300
    compile: str = "auto"
    cpu_dropout: bool = False

    def check(self) -> None:
        if not 0 < self.threshold < 1:
            raise ParamsError(f"train.threshold must be between 0 and 1, got {self.threshold}")
        check_class_weights(self.class_weights)
        check_seed("train.seed", self.seed)
        if self.best_metric not in BEST_METRICS:
            raise ParamsError(
                f"train.best_metric must be one of {', '.join(BEST_METRICS)}, "
                f"got {short(self.best_metric)}"
            )
        check_positive(
            "train.early_stopping_patience", self.early_stopping_patience, allow_none=True
        )
        check_positive("train.epochs", self.epochs)
        check_positive("train.max_steps", self.max_steps, allow_none=True)
        if self.min_steps is not None and self.min_steps < 0:
            raise ParamsError(
                f"train.min_steps must be >= 0 (0 or null: off), got {self.min_steps}"
            )
        check_positive("train.batch_size", self.batch_size)
        check_positive("train.learning_rate", self.learning_rate)
        check_positive("train.logging_steps", self.logging_steps)
        check_positive("train.save_steps", self.save_steps)
        check_positive("train.processes", self.processes)
        check_precision("train.precision", self.precision)
        if self.weight_decay < 0:
            raise ParamsError(f"train.weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.warmup_ratio < 1:
            raise ParamsError(f"train.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        check_compile("train.compile", self.compile)
        if self.sampling not in ("random", "group_by_length", "bucketed"):
            raise ParamsError(
                f"train.sampling must be 'random', 'group_by_length' or 'bucketed', "
                f"got {short(self.sampling)}"
            )
