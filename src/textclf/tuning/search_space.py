"""`search.space` as Optuna distributions, and a trial's values as `dvc exp run -S` overrides
(Hydra's syntax, each value quoted or formatted so that no comma can start a DVC sweep)."""

from __future__ import annotations

import json
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from textclf.config.search_params import Dimension, value_type


def distributions(space: dict[str, Dimension]) -> dict[str, BaseDistribution]:
    """One Optuna distribution per searched key: integer or float ranges, or categories."""
    found: dict[str, BaseDistribution] = {}
    for key, dimension in space.items():
        if dimension.choices is not None:
            found[key] = CategoricalDistribution(dimension.choices)
        elif value_type(key) is int:
            found[key] = IntDistribution(int(dimension.low), int(dimension.high), log=dimension.log)
        else:
            found[key] = FloatDistribution(dimension.low, dimension.high, log=dimension.log)
    return found


def hydra_value(value: Any) -> str:
    """`value` as Hydra's override grammar reads it back unchanged."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a double-quoted string: commas, spaces and quotes stay text


def overrides(values: dict[str, Any]) -> list[str]:
    """`-S key=value` arguments of `dvc exp run` for a trial's values."""
    arguments = []
    for key, value in values.items():
        arguments += ["-S", f"{key}={hydra_value(value)}"]
    return arguments
