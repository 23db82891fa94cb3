"""params.yaml's `search` section: the space `textclf search` explores, the validation metric
it maximises (or the loss it minimises), and where its Optuna study is stored."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

from textclf.config.checks import check_positive, check_seed
from textclf.config.errors import ParamsError
from textclf.config.model_params import ModelParams, TokenizeParams
from textclf.config.train_params import TrainParams
from textclf.config.typed_yaml import short

# the validation metrics of metrics/train.json (the kept epoch's) a search can select on
SEARCH_METRICS = (
    "eval_loss",
    "eval_accuracy",
    "eval_f1_macro",
    "eval_f1_micro",
    "eval_hamming_loss",
)
LOWER_IS_BETTER = ("eval_loss", "eval_hamming_loss")
SECTIONS = {"train": TrainParams, "tokenize": TokenizeParams, "model": ModelParams}
# searchable keys outside `train`: the rest of tokenize and model change the data, not a recipe
OTHER_KEYS = ("tokenize.max_length", "model.name")
NOT_SEARCHABLE = ("train.processes", "train.report_to", "train.precision", "train.save_steps")

MAX_HEARTBEAT_SECONDS = 86_400
MAX_STUDY_NAME = 64  # experiment names are the study's name and a number


@dataclass(frozen=True)
class Dimension:
    """One key of the space: a range (`low`, `high`, `log` for a log scale) or `choices`."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] | None = None


def default_space() -> dict[str, Dimension]:
    return {
        "train.learning_rate": Dimension(low=1e-5, high=1e-4, log=True),
        "train.min_steps": Dimension(choices=[150, 300, 600]),
        "train.batch_size": Dimension(choices=[16, 32]),
        "train.warmup_ratio": Dimension(low=0.0, high=0.2),
        "train.weight_decay": Dimension(low=0.0, high=0.1),
    }


@dataclass(frozen=True)
class SearchParams:
    trials: int = 6
    metric: str = "eval_accuracy"
    seed: int = 0
    storage: str = "sqlite:///search/optuna.db"
    study: str = "search"
    top: int = 3
    prune: bool = False
    heartbeat_seconds: int = 60
    space: dict[str, Dimension] = field(default_factory=default_space)

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    def check(self) -> None:
        check_positive("search.trials", self.trials)
        check_positive("search.top", self.top)
        check_positive("search.heartbeat_seconds", self.heartbeat_seconds)
        check_seed("search.seed", self.seed)
        if self.heartbeat_seconds > MAX_HEARTBEAT_SECONDS:
            raise ParamsError(
                f"search.heartbeat_seconds must be <= {MAX_HEARTBEAT_SECONDS} (a day), "
                f"got {self.heartbeat_seconds}"
            )
        if len(self.study) > MAX_STUDY_NAME:
            raise ParamsError(
                f"search.study must be at most {MAX_STUDY_NAME} characters (it names "
                f"experiments and git refs), got {len(self.study)}"
            )
        if self.metric not in SEARCH_METRICS:
            raise ParamsError(
                f"search.metric must be one of {', '.join(SEARCH_METRICS)}, "
                f"got {short(self.metric)}"
            )
        if not self.study.replace("-", "").replace("_", "").isalnum():
            raise ParamsError(
                f"search.study must be letters, digits, '-' or '_' (it names experiments), "
                f"got {short(self.study)}"
            )
        if not self.storage.strip():
            raise ParamsError("search.storage must be an Optuna storage URL, got ''")
        if not self.space:
            raise ParamsError("search.space must name at least one key")
        for key, dimension in self.space.items():
            check_dimension(key, dimension)


def value_type(key: str) -> type:
    """The type params.yaml gives `key` (int, float, str, ...)."""
    section, name = key.split(".", 1)
    hint = typing.get_type_hints(SECTIONS[section])[name]
    options = [option for option in typing.get_args(hint) if option is not type(None)]
    return options[0] if options else hint


def check_dimension(key: str, dimension: Dimension) -> None:
    """ParamsError naming `search.space.<key>` unless it is a searchable key with a range or
    choices whose every value the key accepts."""
    where = f"search.space.{key}"
    section, _, name = key.partition(".")
    known = section in SECTIONS and name in {f.name for f in dataclasses.fields(SECTIONS[section])}
    if not known or (section != "train" and key not in OTHER_KEYS) or key in NOT_SEARCHABLE:
        raise ParamsError(
            f"{where}: not a searchable key (any train.* but {', '.join(NOT_SEARCHABLE)}; "
            f"{', '.join(OTHER_KEYS)})"
        )
    kind = value_type(key)
    if dimension.choices is not None:
        if dimension.low is not None or dimension.high is not None:
            raise ParamsError(f"{where}: give either low and high, or choices")
        if not dimension.choices:
            raise ParamsError(f"{where}.choices must list at least one value")
        values = dimension.choices
    else:
        if dimension.low is None or dimension.high is None:
            raise ParamsError(f"{where}: give low and high (a range), or choices")
        if kind not in (int, float):
            raise ParamsError(f"{where}: {key} is not a number: give choices")
        if not dimension.low < dimension.high:
            raise ParamsError(
                f"{where}: empty range, low {dimension.low:g} must be below high {dimension.high:g}"
            )
        if dimension.log and dimension.low <= 0:
            raise ParamsError(f"{where}.low must be > 0 on a log scale, got {dimension.low:g}")
        if kind is int and not (
            float(dimension.low).is_integer() and float(dimension.high).is_integer()
        ):
            raise ParamsError(f"{where}: {key} is an integer: low and high must be integers")
        values = [dimension.low, dimension.high]
    for value in values:
        check_value(key, value, kind, where)


def check_value(key: str, value: Any, kind: type, where: str) -> None:
    """The key's own check (range, type), as if params.yaml gave it `value`."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ParamsError(f"{where}: {key} must be {kind.__name__}, got {short(value)}")
    section, name = key.split(".", 1)
    try:
        dataclasses.replace(SECTIONS[section](), **{name: value}).check()
    except ParamsError as error:
        raise ParamsError(f"{where}: {error}") from None
