"""The model's input text, built from a data file's text columns the same way for training and
prediction."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from textclf.data.formats import DataError, Table
from textclf.data.table import lone_surrogate


def join_text(
    frame: pd.DataFrame, text_columns: Sequence[str], clean_backslashes: bool = True
) -> pd.Series:
    """The model's input text: the text columns joined with one space (AG News: title + " " +
    description), backslashes made spaces as in the notebook unless `clean_backslashes` is off."""
    parts = [frame[column].fillna("").astype(str) for column in text_columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + " " + part
    return text.str.replace("\\", " ", regex=False) if clean_backslashes else text


def model_inputs(texts: Sequence[str], clean_backslashes: bool) -> list[str]:
    """Texts as the model was trained on them, whichever way they came (typed, a `text` column,
    a service request): the training clean-up (`data.clean_backslashes`, recorded in the
    checkpoint's settings) applied. Joined columns already had it; it is idempotent."""
    if not clean_backslashes:
        return list(texts)
    return [text.replace("\\", " ") for text in texts]


def check_text_values(table: Table, text_columns: Sequence[str]) -> None:
    """Text columns hold strings (or nothing): a number or a list there is a data error, and so
    is a lone surrogate."""
    for column in text_columns:
        for row, value in enumerate(table.frame[column]):
            if value is not None and not isinstance(value, str):
                raise DataError(
                    f"{table.where(row)}: column {column!r} must hold text, got {value!r}"
                )
            if value and (escaped := lone_surrogate(value)):
                raise DataError(
                    f"{table.where(row)}: column {column!r} holds a lone surrogate "
                    f"({escaped}), which is not text"
                )


def to_examples(
    table: Table, text_columns: Sequence[str], labels: Sequence, clean_backslashes: bool
) -> pd.DataFrame:
    """(text, label) rows, in file order: a class id per row, or a list of them (multi-label)."""
    check_text_values(table, text_columns)
    text = join_text(table.frame, text_columns, clean_backslashes)
    multi_label = bool(labels) and isinstance(labels[0], list)
    label = pd.Series(labels, dtype=object) if multi_label else pd.array(labels, dtype="int64")
    return pd.DataFrame({"text": text.to_numpy(), "label": label})
