"""Reading labelled text in the shapes teams keep it: CSV, TSV, JSON Lines, Parquet (each
optionally gzipped), with or without a header row.

Every reader returns the table as read plus where each row came from (its line in the file, or
its row number in a Parquet file), so that later checks can say `news.jsonl:12: ...`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
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


def read_table(
    path: Path, name: str, data_format: str, header: bool, columns: list[str] | None
) -> Table:
    """Read `path` (downloaded from `name`) in `data_format`; DataError on the first bad row."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    fmt = detect_format(str(path), data_format)
    if fmt == "parquet":
        return _read_parquet(path, name)
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"{name}: not a readable gzip file ({error})") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is not part of the first value
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(f"{name}:{line}: bytes that are not UTF-8 ({error.reason})") from None
    if fmt == "jsonl":
        table = _read_jsonl(text, name)
    else:
        table = _read_delimited(text, name, "\t" if fmt == "tsv" else ",", header, columns)
    if table.frame.empty:
        raise DataError(f"{name}: no rows")
    return table


def _read_delimited(
    text: str, name: str, delimiter: str, header: bool, columns: list[str] | None
) -> Table:
    # a field may hold a whole article: lift the csv module's 128 KiB default
    csv.field_size_limit(sys.maxsize)
    # TSV as tab-separated text (quotes are text, as in GLUE/SST files); CSV quoted as RFC 4180
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True
    )
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
    except csv.Error as error:
        raise DataError(f"{name}:{reader.line_num}: malformed CSV ({error})") from None
    return Table(pd.DataFrame(rows, columns=names or [], dtype=object), positions, name)


def _header(record: list[str], name: str, line: int) -> list[str]:
    names = [value.strip() for value in record]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if "" in names or repeated:
        problem = "an empty column name" if "" in names else f"{repeated[0]!r} twice"
        raise DataError(f"{name}:{line}: the header row has {problem}")
    return names


def _read_jsonl(text: str, name: str) -> Table:
    records, positions = [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
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
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame.from_records(records, columns=columns)
    return Table(frame.astype(object).where(frame.notna(), None), positions, name)


def _read_parquet(path: Path, name: str) -> Table:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        reason = str(error).strip().splitlines()[0]
        raise DataError(f"{name}: not a readable Parquet file ({reason})") from None
    frame = pd.DataFrame(
        {column: table.column(column).to_pylist() for column in table.schema.names}, dtype=object
    )
    return Table(frame, list(range(1, len(frame) + 1)), name, parquet=True)
