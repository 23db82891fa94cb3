"""CSV files meant for people (annotators, spreadsheets) are safe to open: a cell that a
spreadsheet would run as a formula, one starting with `=`, `+`, `-`, `@`, a tab or a carriage
return, is written with a leading apostrophe, which spreadsheets show as text (OWASP's advice
against CSV injection). Numbers stay numbers; header cells are treated alike."""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """`value`, with an apostrophe before it if it is text a spreadsheet would run."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names no spreadsheet runs as formulas."""
    safe = frame.rename(columns=inert)
    for column in range(safe.shape[1]):
        values = safe.iloc[:, column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            safe.isetitem(column, values.map(inert))
    return safe
