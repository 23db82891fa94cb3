"""params.yaml's `score` section: the archive the score stage scores with a trained model, for
teams that want the scored archive versioned in data/scored/ (see docs/scoring.md). Empty
`input`, the default: the stage scores nothing and starts nothing."""

from __future__ import annotations

from dataclasses import dataclass

from textclf.config.checks import check_positive
from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short

MODELS = ("student", "model")  # models/student (the default) or models/model (the teacher)


@dataclass(frozen=True)
class ScoreParams:
    input: str = ""
    model: str = "student"
    keep: str = ""
    actors: int | None = None
    batch_size: int = 64
    address: str = ""

    def check(self) -> None:
        if self.model not in MODELS:
            raise ParamsError(
                f"score.model must be one of {', '.join(MODELS)}, got {short(self.model)}"
            )
        check_positive("score.actors", self.actors, allow_none=True)
        check_positive("score.batch_size", self.batch_size)

    @property
    def kept_columns(self) -> list[str] | None:
        return [name.strip() for name in self.keep.split(",") if name.strip()] or None
