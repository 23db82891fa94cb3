"""The tokenize stage's output as later stages read it: Parquet shards, into memory for the
test split, memory-mapped for training."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.config.paths import TOKENIZED_DIR
from textclf.data.formats import DataError
from textclf.data.tables import parquet_batches


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
