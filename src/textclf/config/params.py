"""Typed, validated view of params.yaml, one dataclass per section.

Every stage reads its section through `load_params()`, so a typo'd key or an out-of-range value
fails in a second with a one-line message instead of after an hour of training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textclf.config.data_params import DataParams, PrepareParams
from textclf.config.errors import ParamsError
from textclf.config.quality_params import QualityParams
from textclf.config.report_params import BaselineParams, CardParams, EvaluateParams, ExportParams
from textclf.config.search_params import SearchParams
from textclf.config.train_params import ModelParams, TokenizeParams, TrainParams
from textclf.config.typed_yaml import build, load_yaml_as

PARAMS_FILE = "params.yaml"


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
    search: SearchParams = field(default_factory=SearchParams)
    quality: QualityParams = field(default_factory=QualityParams)


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate params.yaml; raise ParamsError naming the first bad key and its line."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path} not found: run stages from the repository root")
    return load_yaml_as(Params, path)


def parse_params(raw: Any) -> Params:
    return build(Params, raw)
