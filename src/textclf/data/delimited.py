"""CSV and TSV files, with or without a header row, as tables of at most `chunk_rows` rows."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator

import pandas as pd

from textclf.data.table import DataError, Table


def delimited_chunks(
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
    end = 0  # the line the previous record ended on: a quoted field may span lines
    try:
        for record in reader:
            # a record's position is the line it starts on, where an editor shows it
            start, end = end + 1, reader.line_num
            if not record or record == [""]:  # a blank line, e.g. at the end of the file
                continue
            if names is None:
                names = header_names(record, name, start)
                continue
            if len(record) != len(names):
                raise DataError(
                    f"{name}:{start}: expected {len(names)} columns "
                    f"({','.join(names)}), got {len(record)}"
                )
            rows.append(record)
            positions.append(start)
            if len(rows) == chunk_rows:
                yield Table(pd.DataFrame(rows, columns=names, dtype=object), positions, name)
                rows, positions = [], []
    except csv.Error as error:
        raise DataError(f"{name}:{reader.line_num}: malformed CSV ({error})") from None
    if rows:
        yield Table(pd.DataFrame(rows, columns=names, dtype=object), positions, name)


def header_names(record: list[str], name: str, line: int) -> list[str]:
    names = [value.strip() for value in record]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if "" in names or repeated:
        problem = "an empty column name" if "" in names else f"{repeated[0]!r} twice"
        raise DataError(f"{name}:{line}: the header row has {problem}")
    return names
