"""CSV files meant for people (annotators, spreadsheets) are safe to open: a cell that a
spreadsheet would run as a formula, one starting with `=`, `+`, `-`, `@`, a tab or a carriage
return, is written with a leading apostrophe, which spreadsheets show as text (OWASP's advice
against CSV injection). Numbers stay numbers (`-1` too); header cells are treated alike."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """`value`, with an apostrophe before it if it is text a spreadsheet would run; a plain
    number written as text (a class named `-1`) is read as that number, and stays."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS) or is_number(value):
        return value
    return f"'{value}"


def is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and text == text.strip()
    except ValueError:
        return False


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names no spreadsheet runs as formulas."""
    safe = frame.rename(columns=inert)
    for column in range(safe.shape[1]):
        values = safe.iloc[:, column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            safe.isetitem(column, values.map(inert))
    return safe
