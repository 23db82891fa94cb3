"""`train.class_weights`, on its own: the prepare stage reports the weights it stands for, and
reads this key without depending on the rest of the train section's code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short

CLASS_WEIGHTS = ("none", "balanced")


def check_class_weights(value: str) -> None:
    if value not in CLASS_WEIGHTS:
        raise ParamsError(f"train.class_weights must be 'none' or 'balanced', got {short(value)}")


@dataclass(frozen=True)
class ClassWeightsChoice:
    """The train section's `class_weights` key alone (its other keys are the train stage's)."""

    PARTIAL: ClassVar[bool] = True
    class_weights: str = "none"

    def check(self) -> None:
        check_class_weights(self.class_weights)
