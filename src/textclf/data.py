"""Raw labelled text -> clean (text, label) tables, and parquet I/O shared by the stages."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.class_weights import label_counts
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


def parquet_batches(
    path: Path, columns: list[str] | None = None, batch_size: int = 65_536
) -> Iterator[pa.RecordBatch]:
    """A Parquet file's rows, `batch_size` at a time, in bounded memory (pyarrow's default
    pre-buffering would hold most of a large file)."""
    return pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size, columns=columns)


def batches_with_rows(path: Path) -> Iterator[tuple[pa.RecordBatch, slice]]:
    """A Parquet file's rows in batches, each with its rows' positions in the file."""
    start = 0
    for batch in parquet_batches(path):
        yield batch, slice(start, start + batch.num_rows)
        start += batch.num_rows


def read_prepared(path: Path, max_rows: int | None, seed: int) -> tuple[pd.DataFrame, int]:
    """A prepared split, or a seeded subset of `max_rows` of its rows (prepare's capping rule),
    read a batch at a time; and how many rows the split has."""
    available = pq.ParquetFile(path).metadata.num_rows
    keep = cap_mask(np.ones(available, dtype=bool), max_rows, seed)
    tables = [
        pa.Table.from_batches([batch]).filter(pa.array(keep[rows]))
        for batch, rows in batches_with_rows(path)
    ]
    return pa.concat_tables(tables).to_pandas(), available


def tokenized_files(split: str, root: Path = TOKENIZED_DIR) -> list[Path]:
    """The Parquet shards of a tokenized split, in order."""
    files = sorted((root / split).glob(f"{split}-*.parquet"))
    if not files:
        raise DataError(f"{root / split}: no tokenized shards (run `dvc repro`, or `dvc pull`)")
    return files


def read_tokenized(split: str, columns: list[str], max_rows: int | None = None) -> pa.Table:
    """Columns of a tokenized split (its first `max_rows` rows), read into memory: for the
    test split and samples; training reads the memory-mapped `load_dataset`."""
    tables, rows = [], 0
    for path in tokenized_files(split):
        for batch in parquet_batches(path, columns):
            tables.append(pa.Table.from_batches([batch]))
            rows += batch.num_rows
            if max_rows is not None and rows >= max_rows:
                return pa.concat_tables(tables).slice(0, max_rows)
    return pa.concat_tables(tables)


class TokenRows(Sequence):
    """A tokenized list column as a sequence of Python lists made one row at a time: the rows
    stay in Arrow memory (4 bytes a token) instead of Python ints (about 36)."""

    def __init__(self, column: pa.ChunkedArray | pa.Array):
        self.column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, row: int) -> list[int]:
        return self.column[int(row)].as_py()


def load_dataset(split: str) -> datasets.Dataset:
    """A tokenized split as a memory-mapped `datasets.Dataset`: its shards are copied once into
    an Arrow file in a temporary folder (removed at exit, never beside the tracked data), so
    memory does not grow with the number of rows."""
    files = tokenized_files(split)
    folder = Path(tempfile.mkdtemp(prefix=f"textclf-{split}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / f"{split}.arrow"
    schema = pq.read_schema(files[0]).remove_metadata()
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, schema) as stream:
        for file in files:
            for batch in parquet_batches(file):
                stream.write_batch(batch)
    return datasets.Dataset.from_file(str(path), in_memory=False)


def label_counts_of(path: Path, n_classes: int) -> tuple[np.ndarray, int]:
    """Rows per class (multi-label: rows carrying each label) of a prepared split, and its
    rows, read a batch at a time."""
    counts, rows = np.zeros(n_classes, dtype=np.int64), 0
    for batch in parquet_batches(path, ["label"]):
        labels = batch.column("label")
        values = labels.to_numpy() if pa.types.is_integer(labels.type) else labels.to_pylist()
        counts += label_counts(values, n_classes)
        rows += batch.num_rows
    return counts, rows
