"""Files that name their own columns: JSON Lines (an object per line) and Parquet, as tables
of at most `chunk_rows` rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.data.table import DataError, Table, lone_surrogate

ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # only such lines need the check
MAX_CHUNK_CELLS = 1_000_000  # rows x columns of one JSON Lines table


def jsonl_chunks(lines: Iterator[str], name: str, chunk_rows: int) -> Iterator[Table]:
    """Tables of at most `chunk_rows` rows, and of at most MAX_CHUNK_CELLS rows x distinct
    keys: rows that each bring their own keys make a table that wide, so such a file comes in
    shorter chunks and memory stays bounded."""
    records, positions, keys = [], [], set()
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{name}:{line_number}: invalid JSON ({error.msg})") from None
        except RecursionError:
            raise DataError(
                f"{name}:{line_number}: JSON nested too deeply to read (arrays or objects "
                "inside each other thousands of times)"
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                f"{name}:{line_number}: expected a JSON object per line, got "
                f"{type(record).__name__}"
            )
        if ESCAPED_SURROGATE.search(line):
            check_surrogates(record, f"{name}:{line_number}")
        records.append(record)
        positions.append(line_number)
        keys.update(record)
        if len(records) == chunk_rows or len(records) * len(keys) >= MAX_CHUNK_CELLS:
            yield jsonl_table(records, positions, name)
            records, positions, keys = [], [], set()
    if records:
        yield jsonl_table(records, positions, name)


def check_surrogates(record: dict, where: str) -> None:
    for key, value in record.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and (escaped := lone_surrogate(item)):
                raise DataError(
                    f"{where}: key {key!r} holds a lone surrogate ({escaped}), which is not text"
                )


def jsonl_table(records: list[dict], positions: list[int], name: str) -> Table:
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.astype(object).where(frame.notna(), None)
    return Table(frame, positions, name, json_lines=True)


def parquet_chunks(path: Path, name: str, chunk_rows: int) -> Iterator[Table]:
    try:
        # without pre-buffering: it would hold most of a large file in memory
        parquet = pq.ParquetFile(path, pre_buffer=False)
        names = parquet.schema_arrow.names
        repeated = sorted({column for column in names if names.count(column) > 1})
        if repeated:
            raise DataError(f"{name}: the column {repeated[0]!r} appears more than once")
        batches = parquet.iter_batches(batch_size=chunk_rows)
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
