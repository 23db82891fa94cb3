"""Reading labelled text in the shapes teams keep it: CSV, TSV, JSON Lines, Parquet (each
optionally gzipped), with or without a header row.

Every reader returns the table as read plus where each row came from (its line in the file, or
its row number in a Parquet file), so that later checks can say `news.jsonl:12: ...`.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.errors import UserError

FORMATS = ("csv", "tsv", "jsonl", "parquet")
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
}


class DataError(UserError, ValueError):
    """A data file cannot be used as it is; the message names the file and, where known, the
    line (or Parquet row)."""


@dataclass(frozen=True)
class Table:
    """A data file's rows, column by column as read, and where each row is in the file."""

    frame: pd.DataFrame
    positions: list[int]  # 1-based line (CSV, TSV, JSON Lines) or row (Parquet) of each row
    name: str  # the file as the user knows it (a data.*_url value), for messages
    parquet: bool = False
    json_lines: bool = False  # columns are the keys of this table's objects, not the file's

    def where(self, row: int) -> str:
        """`name:line` or `name: row N`, for the message about one row."""
        position = self.positions[row]
        return f"{self.name}: row {position}" if self.parquet else f"{self.name}:{position}"

    def require(self, columns: list[str]) -> None:
        missing = [column for column in columns if column not in self.frame.columns]
        if missing:
            raise DataError(
                f"{self.name}: no column {missing[0]!r} (the file has: "
                f"{', '.join(map(str, self.frame.columns))})"
            )


def detect_format(name: str, data_format: str = "auto") -> str:
    """The format named by `data.format`, or for `auto` by the file name's suffix."""
    if data_format != "auto":
        return data_format
    suffixes = [s.lower() for s in Path(name.split("?")[0]).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in SUFFIXES:
        return SUFFIXES[suffixes[-1]]
    raise DataError(
        f"{name}: unknown format (the name ends in none of .csv, .tsv, .jsonl, .json, .parquet, "
        f"optionally .gz): set data.format to one of {', '.join(FORMATS)}"
    )


def stored_name(split: str, source: str, data_format: str) -> str:
    """The name under data/raw/ of a downloaded split: the split, then the source's suffixes
    (so the format and compression stay visible), e.g. `train.jsonl.gz`."""
    fmt = detect_format(source, data_format)
    gz = ".gz" if source.split("?")[0].lower().endswith(".gz") else ""
    return f"{split}.{fmt}{gz}"


CHUNK_ROWS = 50_000  # rows per streamed chunk: prepare's memory does not grow with the file


def read_table(
    path: Path, name: str, data_format: str, header: bool, columns: list[str] | None
) -> Table:
    """Read all of `path` (downloaded from `name`) in `data_format`; DataError on the first
    bad row. For files of any size, stream them with `read_chunks` instead."""
    chunks = list(read_chunks(path, name, data_format, header, columns))
    if len(chunks) == 1:
        return chunks[0]
    frame = pd.concat([chunk.frame for chunk in chunks], ignore_index=True)
    return Table(
        frame.astype(object).where(frame.notna(), None),  # JSON Lines chunks' columns differ
        [position for chunk in chunks for position in chunk.positions],
        name,
        chunks[0].parquet,
    )


def read_chunks(
    path: Path,
    name: str,
    data_format: str,
    header: bool,
    columns: list[str] | None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[Table]:
    """`path` (downloaded from `name`) as tables of at most `chunk_rows` rows, in file order,
    read as they are needed; DataError on the first bad row. Each chunk's positions are lines
    (or Parquet rows) of the whole file."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    fmt = detect_format(str(path), data_format)
    if fmt == "parquet":
        chunks = _parquet_chunks(path, name, chunk_rows)
    elif fmt == "jsonl":
        chunks = _jsonl_chunks(_text_lines(path, name), name, chunk_rows)
    else:
        delimiter = "\t" if fmt == "tsv" else ","
        lines = _text_lines(path, name)
        chunks = _delimited_chunks(lines, name, delimiter, header, columns, chunk_rows)
    empty = True
    for chunk in chunks:
        empty = False
        yield chunk
    if empty:
        raise DataError(f"{name}: no rows")


def with_columns(
    chunks: Iterable[Table], columns: list[str], required: Sequence[str] = ()
) -> Iterator[Table]:
    """`chunks`, each with every one of `columns`. CSV, TSV and Parquet files have fixed
    columns: a missing one fails at the first chunk. A JSON Lines object may leave a key out:
    the chunk gets it as None, and only a key that no row of the file has is an error, except
    for the `required` keys (a label), which every chunk must have."""
    seen: dict[str, None] = {}
    name = ""
    for chunk in chunks:
        name = chunk.name
        chunk.require(list(required) if chunk.json_lines else columns)
        seen.update(dict.fromkeys(chunk.frame.columns))
        for column in columns:
            if column not in chunk.frame.columns:
                chunk.frame[column] = None
        yield chunk
    missing = [column for column in columns if column not in seen]
    if missing:
        raise DataError(f"{name}: no column {missing[0]!r} (the file has: {', '.join(seen)})")


def _text_lines(path: Path, name: str) -> Iterator[str]:
    """The file's lines, line endings kept, decoded one at a time (UTF-8, a leading byte-order
    mark dropped), so that a decoding error can name its line."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    yield line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as error:
                    raise DataError(
                        f"{name}:{number}: bytes that are not UTF-8 ({error.reason})"
                    ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DataError(f"{name}: not a readable gzip file ({error})") from None


def _delimited_chunks(
    lines: Iterator[str],
    name: str,
    delimiter: str,
    header: bool,
    columns: list[str] | None,
    chunk_rows: int,
) -> Iterator[Table]:
    # a field may hold a whole article: lift the csv module's 128 KiB default
    csv.field_size_limit(sys.maxsize)
    # TSV as tab-separated text (quotes are text, as in GLUE/SST files); CSV quoted as RFC 4180
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting, strict=True)
    rows, positions = [], []
    names = None if header else columns
    if names is None and not header:
        raise DataError(
            f"{name}: data.columns is null and data.header is false: name the columns of a "
            "header-less file in data.columns, or set data.header: true"
        )
    try:
        for record in reader:
            if not record or record == [""]:  # a blank line, e.g. at the end of the file
                continue
            if names is None:
                names = _header(record, name, reader.line_num)
                continue
            if len(record) != len(names):
                raise DataError(
                    f"{name}:{reader.line_num}: expected {len(names)} columns "
                    f"({','.join(names)}), got {len(record)}"
                )
            rows.append(record)
            positions.append(reader.line_num)
            if len(rows) == chunk_rows:
                yield Table(pd.DataFrame(rows, columns=names, dtype=object), positions, name)
                rows, positions = [], []
    except csv.Error as error:
        raise DataError(f"{name}:{reader.line_num}: malformed CSV ({error})") from None
    if rows:
        yield Table(pd.DataFrame(rows, columns=names, dtype=object), positions, name)


def _header(record: list[str], name: str, line: int) -> list[str]:
    names = [value.strip() for value in record]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if "" in names or repeated:
        problem = "an empty column name" if "" in names else f"{repeated[0]!r} twice"
        raise DataError(f"{name}:{line}: the header row has {problem}")
    return names


def _jsonl_chunks(lines: Iterator[str], name: str, chunk_rows: int) -> Iterator[Table]:
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
            yield _jsonl_table(records, positions, name)
            records, positions = [], []
    if records:
        yield _jsonl_table(records, positions, name)


def _jsonl_table(records: list[dict], positions: list[int], name: str) -> Table:
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.astype(object).where(frame.notna(), None)
    return Table(frame, positions, name, json_lines=True)


def _parquet_chunks(path: Path, name: str, chunk_rows: int) -> Iterator[Table]:
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
