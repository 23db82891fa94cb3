"""Range checks shared by the params sections: one `ParamsError` line naming the key."""

from __future__ import annotations

from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# train.compile, evaluate.compile: torch.compile (auto: where measured faster, see
# textclf.modeling.compiled)
COMPILE_CHOICES = ("auto", "on", "off")


def check_positive(key: str, value: float | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ParamsError(f"{key} must be > 0, got {value}")


# numpy's and torch's seeding take 32-bit unsigned seeds; outside, a traceback deep in training
MAX_SEED = 2**32 - 1


def check_seed(key: str, value: int) -> None:
    if not 0 <= value <= MAX_SEED:
        raise ParamsError(f"{key} must be between 0 and {MAX_SEED}, got {value}")


def check_precision(key: str, value: str) -> None:
    if value not in PRECISIONS:
        raise ParamsError(f"{key} must be one of {', '.join(PRECISIONS)}, got {short(value)}")


def check_compile(key: str, value: str) -> None:
    if value not in COMPILE_CHOICES:
        raise ParamsError(f"{key} must be 'auto', 'on' or 'off', got {short(value)}")
