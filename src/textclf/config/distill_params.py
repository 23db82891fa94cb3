"""params.yaml's `distill` section: the student the distill stage makes from the trained model
(the teacher), for serving and scoring on CPUs (see docs/serving-cheaply.md)."""

from __future__ import annotations

from dataclasses import dataclass

from textclf.config.checks import check_positive, check_seed
from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short

STUDENTS = ("none", "static", "transformer")
# models/student/README.md with `distill.student: none`: a marker, no model
NO_STUDENT = "No student: `distill.student` is none. See docs/serving-cheaply.md.\n"
NO_STUDENT_REMEDY = "set distill.student: static (or transformer) in params.yaml, then `dvc repro`"
# upper bounds of the size keys, far above any useful value: a typo of a few digits is one error
# line here, not an attempt to allocate terabytes after the teacher has labelled every row
LIMITS = {
    "layers": 128,
    "pca_dims": 8192,
    "hidden": 65536,
    "epochs": 10_000,
    "head_epochs": 10_000,
    "tune_epochs": 10_000,
    "batch_size": 1_000_000,
}


@dataclass(frozen=True)
class DistillParams:
    student: str = "static"
    temperature: float = 2.0
    true_label_weight: float = 0.5
    pool: str = ""
    max_pool_rows: int | None = None
    layers: int = 2
    model: str = ""
    pca_dims: int = 256
    hidden: int = 0
    epochs: int = 3
    head_epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 5.0e-05
    head_learning_rate: float = 0.005
    tune_epochs: int = 5
    tune_learning_rate: float = 0.003
    seed: int = 0

    def check(self) -> None:
        if self.student not in STUDENTS:
            raise ParamsError(
                f"distill.student must be one of {', '.join(STUDENTS)}, got {short(self.student)}"
            )
        if not 0 < self.temperature <= 100:
            raise ParamsError(f"distill.temperature must be in (0, 100], got {self.temperature}")
        if not 0 <= self.true_label_weight <= 1:
            raise ParamsError(
                f"distill.true_label_weight must be in [0, 1], got {self.true_label_weight}"
            )
        check_positive("distill.max_pool_rows", self.max_pool_rows, allow_none=True)
        check_positive("distill.layers", self.layers)
        check_positive("distill.pca_dims", self.pca_dims)
        if self.hidden < 0:
            raise ParamsError(f"distill.hidden must be >= 0 (0: a linear head), got {self.hidden}")
        for key in ("epochs", "head_epochs", "batch_size", "learning_rate", "head_learning_rate"):
            check_positive(f"distill.{key}", getattr(self, key))
        if self.tune_epochs < 0:
            raise ParamsError(
                f"distill.tune_epochs must be >= 0 (0: the vectors as distilled), got "
                f"{self.tune_epochs}"
            )
        check_positive("distill.tune_learning_rate", self.tune_learning_rate)
        check_seed("distill.seed", self.seed)
        for key, limit in LIMITS.items():
            if getattr(self, key) > limit:
                raise ParamsError(f"distill.{key} must be <= {limit:,}, got {getattr(self, key):,}")
        if self.model and self.student != "transformer":
            raise ParamsError(
                f"distill.model names a transformer student, but distill.student is "
                f"{self.student}: set distill.student: transformer or distill.model: ''"
            )
