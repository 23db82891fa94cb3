"""Raw labelled text -> clean (text, label) tables, and parquet I/O shared by the stages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.files import atomic_path, read_json
from textclf.formats import DataError, Table
from textclf.splits import cap_mask, validation_mask

SPLITS = ("train", "validation", "test")

# Stage outputs, as declared in dvc.yaml (paths relative to the repository root).
RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
SCHEMA_FILE = PREPARED_DIR / "schema.json"
TOKENIZED_DIR = Path("data/tokenized")
TOKENIZER_DIR = TOKENIZED_DIR / "tokenizer"
TRUNCATION_FILE = TOKENIZED_DIR / "truncation.json"

# the schema keys a checkpoint keeps (config.json `textclf`), so `predict` builds its input
# text from a file's columns as training did
TEXT_SETTINGS = (
    "text_columns",
    "clean_backslashes",
    "label_column",
    "columns",
    "label_separator",
)

__all__ = ["DataError"]  # re-exported: stages catch data errors from here


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


def check_text_values(table: Table, text_columns: Sequence[str]) -> None:
    """Text columns hold strings (or nothing): a number or a list there is a data error."""
    for column in text_columns:
        for row, value in enumerate(table.frame[column]):
            if value is not None and not isinstance(value, str):
                raise DataError(
                    f"{table.where(row)}: column {column!r} must hold text, got {value!r}"
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


def read_schema(path: Path = SCHEMA_FILE) -> dict:
    """What later stages need to know of the data (written by prepare): class names in id order
    and how the text was built from the columns."""
    if not path.is_file():
        raise DataError(f"{path}: file not found (run `dvc repro`, or `dvc pull`)")
    return read_json(path)


def read_truncation(path: Path = TRUNCATION_FILE) -> dict:
    """How the tokenize stage cut long texts (`tokenize.truncation`, `chunk_overlap`)."""
    if not path.is_file():
        raise DataError(f"{path}: file not found (run `dvc repro`, or `dvc pull`)")
    return read_json(path)


def split_validation(
    examples: pd.DataFrame, validation_size: float, seed: int, stratify: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/validation split of an in-memory table, stratified by label unless `stratify` is
    off (multi-label rows have label sets); both parts keep the row order (textclf.splits)."""
    labels = examples["label"].to_numpy() if stratify else None
    held_out = validation_mask(labels, len(examples), validation_size, seed)
    return examples[~held_out], examples[held_out]


def cap_rows(examples: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """A seeded random subset of at most `max_rows` rows, in the original order."""
    if max_rows is None or len(examples) <= max_rows:
        return examples
    return examples[cap_mask(np.ones(len(examples), dtype=bool), max_rows, seed)]


def write_parquet(table: pd.DataFrame | pa.Table, path: str | Path) -> None:
    """Write atomically; the same table always gives the same bytes."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary, compression="zstd")


def load_dataset(path: str | Path) -> datasets.Dataset:
    """A parquet file as an in-memory `datasets.Dataset` (no cache files next to the input)."""
    return datasets.Dataset(pq.read_table(path))
