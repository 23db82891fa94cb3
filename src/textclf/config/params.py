"""Typed, validated view of the whole params.yaml, one dataclass per section: what the commands
that read every section load (`textclf check`, `search`, `quick`), so that a typo'd key or an
out-of-range value fails in a second with a one-line message instead of after an hour of
training. Stages load only their own sections (textclf.config.sections).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textclf.config.data_params import DataParams, PrepareParams
from textclf.config.distill_params import DistillParams
from textclf.config.model_params import ModelParams, TokenizeParams
from textclf.config.paths import PARAMS_FILE
from textclf.config.quality_params import QualityParams
from textclf.config.report_params import BaselineParams, CardParams, EvaluateParams, ExportParams
from textclf.config.score_params import ScoreParams
from textclf.config.search_params import SearchParams
from textclf.config.sections import existing_params_file
from textclf.config.train_params import TrainParams
from textclf.config.typed_yaml import build, load_yaml_as


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
    distill: DistillParams = field(default_factory=DistillParams)
    score: ScoreParams = field(default_factory=ScoreParams)


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate params.yaml; raise ParamsError naming the first bad key and its line."""
    return load_yaml_as(Params, existing_params_file(path))


def parse_params(raw: Any) -> Params:
    return build(Params, raw)
