"""Raw AG-News-style CSVs -> clean (text, label) tables, and parquet I/O shared by the stages."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import datasets
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.model_selection import train_test_split

from textclf.errors import UserError
from textclf.files import atomic_path

RAW_COLUMNS = ("label", "title", "description")
INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")  # ASCII digits only: int() also takes '٣'
SPLITS = ("train", "validation", "test")

# Stage outputs, as declared in dvc.yaml (paths relative to the repository root).
RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
TOKENIZED_DIR = Path("data/tokenized")
TOKENIZER_DIR = TOKENIZED_DIR / "tokenizer"


class DataError(UserError, ValueError):
    """A raw CSV cannot be used as it is; the message names the file and, where known, the line."""


def read_raw_csv(path: str | Path, num_classes: int) -> pd.DataFrame:
    """Read a header-less `label,title,description` CSV with 1-based labels.

    Returns columns label (int, still 1-based), title, description. Raises DataError naming the
    file and line of the first row that breaks the format.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is not part of the first label
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: bytes that are not UTF-8 ({error.reason})") from None
    # a field may hold a whole article: lift the csv module's 128 KiB default
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, str, str]] = []
    try:
        for record in reader:
            if not record:  # a blank line, e.g. at the end of the file
                continue
            rows.append(_parse_record(record, path, reader.line_num, num_classes))
    except csv.Error as error:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV ({error})") from None
    if not rows:
        raise DataError(f"{path}: no rows")
    return pd.DataFrame(rows, columns=list(RAW_COLUMNS))


def _parse_record(record: list[str], path: Path, line: int, num_classes: int) -> tuple:
    if len(record) != len(RAW_COLUMNS):
        raise DataError(
            f"{path}:{line}: expected 3 columns (label,title,description), got {len(record)}"
        )
    label, title, description = record
    if not INTEGER.fullmatch(label):
        hint = " (a header row? raw CSVs have none)" if line == 1 else ""
        raise DataError(f"{path}:{line}: label {label!r} is not an integer{hint}")
    value = int(label)
    if not 1 <= value <= num_classes:
        raise DataError(
            f"{path}:{line}: label {value} out of range 1..{num_classes} "
            f"(data.classes lists {num_classes} classes)"
        )
    return value, title, description


def join_text(title: pd.Series, description: pd.Series) -> pd.Series:
    """The notebook's input text: title + " " + description, backslashes made spaces."""
    return (title + " " + description).str.replace("\\", " ", regex=False)


def to_examples(raw: pd.DataFrame) -> pd.DataFrame:
    """Raw rows -> (text, zero-based label)."""
    text = join_text(raw["title"], raw["description"])
    return pd.DataFrame({"text": text, "label": raw["label"].astype("int64") - 1})


def split_validation(
    examples: pd.DataFrame, validation_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/validation split; both parts keep the raw file's row order."""
    try:
        train, validation = train_test_split(
            examples, test_size=validation_size, random_state=seed, stratify=examples["label"]
        )
    except ValueError as error:  # e.g. a class with a single row cannot be stratified
        raise DataError(f"cannot split {len(examples)} train rows by label: {error}") from None
    return train.sort_index(), validation.sort_index()


def cap_rows(examples: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """A seeded random subset of at most `max_rows` rows, in the original order."""
    if max_rows is None or len(examples) <= max_rows:
        return examples
    return examples.sample(n=max_rows, random_state=seed).sort_index()


def write_parquet(table: pd.DataFrame | pa.Table, path: str | Path) -> None:
    """Write atomically; the same table always gives the same bytes."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary, compression="zstd")


def load_dataset(path: str | Path) -> datasets.Dataset:
    """A parquet file as an in-memory `datasets.Dataset` (no cache files next to the input)."""
    return datasets.Dataset(pq.read_table(path))
