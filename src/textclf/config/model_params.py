"""params.yaml's `model` and `tokenize` sections: the pretrained model and how texts become its
tokens."""

from __future__ import annotations

from dataclasses import dataclass

from textclf.config.checks import check_positive
from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short


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
        check_positive("tokenize.max_length", self.max_length, allow_none=True)
        check_positive("tokenize.num_proc", self.num_proc, allow_none=True)
        check_positive("tokenize.shard_rows", self.shard_rows)
        if self.truncation not in TRUNCATIONS:
            raise ParamsError(
                f"tokenize.truncation must be one of {', '.join(TRUNCATIONS)}, "
                f"got {short(self.truncation)}"
            )
        if not 0 <= self.chunk_overlap < 1:
            raise ParamsError(f"tokenize.chunk_overlap must be in [0, 1), got {self.chunk_overlap}")
