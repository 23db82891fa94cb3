"""What a search reads back from its study is checked before use: the study may be shared by a
team's machines or edited by hand, and its trials' experiment names and values become
`dvc exp run -n` names, log file names and `-S` params of the seed reruns and `--apply`."""

from __future__ import annotations

import math
import re

from optuna.trial import FrozenTrial

from textclf.config.errors import ParamsError, UserError
from textclf.config.search_params import Dimension, SearchParams, check_dimension


def experiment_name(trial: FrozenTrial, search: SearchParams) -> str:
    """The trial's experiment (`<study>-<number>`, as the search names it), checked."""
    name = trial.user_attrs.get("experiment", f"{search.study}-{trial.number}")
    if not isinstance(name, str) or not re.fullmatch(rf"{re.escape(search.study)}-\d+", name):
        raise stored_error(trial, search, f"experiment name {name!r} is not one the search makes")
    return name


def checked_values(trial: FrozenTrial, search: SearchParams) -> dict:
    """The trial's params, each a searchable key with a value params.yaml accepts for it."""
    for key, value in trial.params.items():
        try:
            check_dimension(key, Dimension(choices=[value]))
        except ParamsError as error:
            message = str(error).removeprefix("search.space.")
            raise stored_error(trial, search, f"param {message}") from None
    return dict(trial.params)


def checked_rerun(attrs: dict, rows: int) -> bool:
    """Whether a stored seed rerun has a finite value and one prediction per validation row."""
    value, predicted = attrs.get("value"), attrs.get("predicted")
    return (
        isinstance(value, int | float)
        and math.isfinite(value)
        and isinstance(predicted, list)
        and len(predicted) == rows
        and all(isinstance(label, str) for label in predicted)
    )


def stored_error(trial: FrozenTrial, search: SearchParams, problem: str) -> UserError:
    return UserError(
        f"search.storage: trial {trial.number} of study {search.study}: {problem} (the study "
        "was changed outside textclf search); delete the trial or name a new search.study"
    )
