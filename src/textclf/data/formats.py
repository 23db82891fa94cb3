"""Reading labelled text in the shapes teams keep it: CSV, TSV, JSON Lines, Parquet (each
optionally gzipped), with or without a header row.

Every reader returns the table as read plus where each row came from (its line in the file, or
its row number in a Parquet file), so that later checks can say `news.jsonl:12: ...`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from textclf.data.delimited import delimited_chunks
from textclf.data.structured import jsonl_chunks, parquet_chunks
from textclf.data.table import DataError, NoRows, Table, text_lines

FORMATS = ("csv", "tsv", "jsonl", "parquet")
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
}


def detect_format(name: str, data_format: str = "auto", settable: bool = True) -> str:
    """The format named by `data.format`, or for `auto` by the file name's suffix (`settable`:
    whether `data.format` applies to this file, or only its name can say)."""
    if data_format != "auto":
        return data_format
    suffixes = [s.lower() for s in Path(name.split("?")[0]).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in SUFFIXES:
        return SUFFIXES[suffixes[-1]]
    remedy = (
        f"set data.format to one of {', '.join(FORMATS)}"
        if settable
        else "rename it to end in one of those"
    )
    raise DataError(
        f"{name}: unknown format (the name ends in none of .csv, .tsv, .jsonl, .json, .parquet, "
        f"optionally .gz): {remedy}"
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
        chunks = parquet_chunks(path, name, chunk_rows)
    elif fmt == "jsonl":
        chunks = jsonl_chunks(text_lines(path, name), name, chunk_rows)
    else:
        delimiter = "\t" if fmt == "tsv" else ","
        lines = text_lines(path, name)
        chunks = delimited_chunks(lines, name, delimiter, header, columns, chunk_rows)
    empty = True
    for chunk in chunks:
        empty = False
        yield chunk
    if empty:
        raise NoRows(f"{name}: no rows")


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
