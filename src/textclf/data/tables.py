"""The pipeline's Parquet tables: the prepared splits, the schema, and batch-wise reading in
bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.config.files import read_json
from textclf.config.paths import TRUNCATION_FILE
from textclf.data.formats import DataError
from textclf.data.labels import label_counts
from textclf.data.splits import cap_mask


def read_truncation(path: Path = TRUNCATION_FILE) -> dict:
    """How the tokenize stage cut long texts (`tokenize.truncation`, `chunk_overlap`)."""
    if not path.is_file():
        raise DataError(f"{path}: file not found (run `dvc repro`, or `dvc pull`)")
    return read_json(path)


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
