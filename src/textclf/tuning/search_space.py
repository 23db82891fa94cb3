"""`search.space` as Optuna distributions, and a trial's values as `dvc exp run -S` overrides
(Hydra's syntax, each value quoted or formatted so that it is read back unchanged: no comma
starts a DVC sweep, no `${...}` is interpolated)."""

from __future__ import annotations

import re
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
    """`value` as `dvc exp run -S` reads it back unchanged (Hydra's override grammar, then
    OmegaConf's interpolation)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return f"[{','.join(hydra_value(item) for item in value)}]"
    return hydra_string(str(value))


def hydra_string(text: str) -> str:
    """A double-quoted Hydra string whose every character stays text: commas, spaces, quotes,
    backslashes, non-ASCII, and `${...}`, which would otherwise be interpolated (an
    environment variable's value written into params.yaml)."""
    # OmegaConf: `\${` is a literal `${`; the backslashes right before it are halved
    text = re.sub(r"(\\*)\$\{", lambda found: found.group(1) * 2 + "\\${", text)
    # Hydra: a backslash run before a quote or the closing quote is halved; `\"` is a quote
    text = re.sub(r'(\\*)"', lambda found: found.group(1) * 2 + '\\"', text)
    text = re.sub(r"(\\+)$", lambda found: found.group(1) * 2, text)
    return f'"{text}"'


def overrides(values: dict[str, Any]) -> list[str]:
    """`-S key=value` arguments of `dvc exp run` for a trial's values."""
    arguments = []
    for key, value in values.items():
        arguments += ["-S", f"{key}={hydra_value(value)}"]
    return arguments
