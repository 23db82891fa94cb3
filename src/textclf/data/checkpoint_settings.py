"""What a fine-tuned checkpoint keeps of its training (the `textclf` entry of its config.json,
written by the train stage), so that `predict` and `serve` treat new text as training did: how
the text is built from a file's columns (the schema's), how long texts are cut (tokenize's) and
the multi-label decision threshold (train's). Read and written here only."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from textclf.config.model_params import TokenizeParams
from textclf.data.schema import DEFAULT_TEXT_COLUMNS, Schema, from_mapping

# a multi-label checkpoint made elsewhere (with no `textclf` entry): the sigmoid's midpoint
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class CheckpointSettings:
    """A checkpoint's settings; one made elsewhere has none and gets these defaults (the
    notebook's AG News columns, head truncation)."""

    text_columns: list[str] = dataclasses.field(default_factory=lambda: [*DEFAULT_TEXT_COLUMNS])
    clean_backslashes: bool = Schema.clean_backslashes
    label_column: str = Schema.label_column
    columns: list[str] | None = None
    label_separator: str = Schema.label_separator
    truncation: str = TokenizeParams.truncation
    chunk_overlap: float = TokenizeParams.chunk_overlap
    threshold: float | None = None  # multi-label checkpoints only

    @property
    def decision_threshold(self) -> float:
        """The probability at or above which a multi-label checkpoint predicts a label."""
        return DEFAULT_THRESHOLD if self.threshold is None else self.threshold

    def to_config(self) -> dict[str, Any]:
        entry = dataclasses.asdict(self)
        if self.threshold is None:
            del entry["threshold"]
        return entry


def checkpoint_settings_of(config: object) -> CheckpointSettings:
    """The settings in a checkpoint's config (a `PretrainedConfig` or config.json's mapping)."""
    raw = config.get("textclf") if isinstance(config, dict) else getattr(config, "textclf", None)
    return from_mapping(CheckpointSettings, raw)
