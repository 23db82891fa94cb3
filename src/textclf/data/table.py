"""A data file's rows as read, with where each row is in the file (its line, or its row in a
Parquet file), so that later checks can say `news.jsonl:12: ...`; and a text file's lines,
decoded one at a time."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from textclf.config.errors import UserError

# a UTF-16 surrogate alone (JSON's "\ud800") is no character: it cannot be written as UTF-8
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(value: str) -> str | None:
    """The first lone surrogate in `value`, escaped for a message (`\\ud800`), or None."""
    found = LONE_SURROGATE.search(value)
    return found.group().encode("unicode_escape").decode() if found else None


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


class NoRows(DataError):
    """The file holds no rows (it is empty, or at most a header line)."""


class UnreadableFile(DataError):
    """The file's bytes cannot be read as text (not UTF-8, a broken gzip stream): the same
    whichever way its rows are then laid out."""


def text_lines(path: Path, name: str) -> Iterator[str]:
    """The file's lines, line endings kept, decoded one at a time (UTF-8, a leading byte-order
    mark dropped), so that a decoding error can name its line."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    yield line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as error:
                    raise UnreadableFile(
                        f"{name}:{number}: bytes that are not UTF-8 ({error.reason})"
                    ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise UnreadableFile(f"{name}: not a readable gzip file ({error})") from None
