"""params.yaml's `quality` section: how the quality stage looks for label errors, duplicates
and leakage in the prepared data."""

from __future__ import annotations

from dataclasses import dataclass

from textclf.config.checks import check_positive, check_seed
from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short

QUALITY_MODELS = ("baseline", "transformer")


@dataclass(frozen=True)
class QualityParams:
    model: str = "baseline"
    folds: int = 5
    seed: int = 0
    near_duplicate_similarity: float = 0.8
    short_words: int = 3
    long_words: int = 1000
    max_rows: int | None = 120_000

    def check(self) -> None:
        if self.model not in QUALITY_MODELS:
            raise ParamsError(
                f"quality.model must be one of {', '.join(QUALITY_MODELS)}, got {short(self.model)}"
            )
        check_seed("quality.seed", self.seed)
        if self.folds < 2:
            raise ParamsError(f"quality.folds must be >= 2, got {self.folds}")
        if not 0 < self.near_duplicate_similarity <= 1:
            raise ParamsError(
                "quality.near_duplicate_similarity must be in (0, 1], got "
                f"{self.near_duplicate_similarity}"
            )
        check_positive("quality.max_rows", self.max_rows, allow_none=True)
        check_positive("quality.short_words", self.short_words)
        check_positive("quality.long_words", self.long_words)
        if self.long_words <= self.short_words:
            raise ParamsError(
                f"quality.long_words must be > quality.short_words ({self.short_words}), "
                f"got {self.long_words}"
            )
