"""Files that name their own columns: JSON Lines (an object per line) and Parquet, as tables
of at most `chunk_rows` rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.data.table import DataError, Table


def jsonl_chunks(lines: Iterator[str], name: str, chunk_rows: int) -> Iterator[Table]:
    records, positions = [], []
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{name}:{line_number}: invalid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise DataError(
                f"{name}:{line_number}: expected a JSON object per line, got "
                f"{type(record).__name__}"
            )
        records.append(record)
        positions.append(line_number)
        if len(records) == chunk_rows:
            yield jsonl_table(records, positions, name)
            records, positions = [], []
    if records:
        yield jsonl_table(records, positions, name)


def jsonl_table(records: list[dict], positions: list[int], name: str) -> Table:
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.astype(object).where(frame.notna(), None)
    return Table(frame, positions, name, json_lines=True)


def parquet_chunks(path: Path, name: str, chunk_rows: int) -> Iterator[Table]:
    try:
        # without pre-buffering: it would hold most of a large file in memory
        batches = pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=chunk_rows)
        start = 1
        for batch in batches:
            frame = pd.DataFrame(
                {column: batch.column(column).to_pylist() for column in batch.schema.names},
                dtype=object,
            )
            yield Table(frame, list(range(start, start + len(frame))), name, parquet=True)
            start += len(frame)
    except (pa.ArrowException, OSError) as error:
        reason = str(error).strip().splitlines()[0]
        raise DataError(f"{name}: not a readable Parquet file ({reason})") from None
