"""New text to classify, shaped like the training data or with a `text` column: which layout a
file has (header or not, which columns), and the model's input text of each row, built as
training built it (`predict` reads a file whole, `select` streams it chunk by chunk)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.formats import detect_format, read_chunks
from textclf.data.table import DataError, NoRows, Table, UnreadableFile
from textclf.data.text import check_text_values, join_text


class InputError(DataError):
    """An input file to classify cannot be used as it is."""


class NothingToClassify(InputError, NoRows):
    """An input file with no rows, or a header line only."""


@dataclass(frozen=True)
class InputLayout:
    data_format: str
    header: bool
    columns: list[str] | None  # a header-less file's columns (the training data's)


def input_layout(path: str, settings: CheckpointSettings) -> InputLayout:
    """How to read `path`: a CSV/TSV whose first row names the text columns (or `text`) has a
    header; otherwise it has the training data's columns (the checkpoint's `settings`). JSON
    Lines and Parquet name their columns themselves."""
    if path == "-":
        raise InputError(
            "--input -: standard input is not read; give a file (or, to predict, the texts as "
            "arguments)"
        )
    if Path(path).is_dir():
        raise InputError(f"{path} is a folder: give a data file")
    if not Path(path).is_file():
        raise InputError(f"{path}: file not found")
    data_format, columns = detect_format(path, settable=False), settings.columns
    if data_format not in ("csv", "tsv") or not columns:
        return InputLayout(data_format, True, None)
    try:
        first = next(read_chunks(Path(path), path, data_format, True, None, chunk_rows=1))
    except DataError as error:  # a first row that cannot be a header (repeated or empty values)
        if isinstance(error, UnreadableFile):  # the bytes, not the layout: the same on any reading
            raise
        if isinstance(error, NoRows) and not one_data_row(path, data_format, settings):
            raise NothingToClassify(
                f"{path}: no rows to classify (at most a header line)"
            ) from None
        return InputLayout(data_format, False, columns)
    named = list(first.frame.columns)
    if set(settings.text_columns) <= set(named) or "text" in named:
        return InputLayout(data_format, True, None)
    if len(named) != len(columns):
        # not a row of the training data's shape: a header naming other columns, which
        # input_texts reports as missing the text columns
        return InputLayout(data_format, True, None)
    return InputLayout(data_format, False, columns)


def one_data_row(path: str, data_format: str, settings: CheckpointSettings) -> bool:
    """Whether a file of one line holds a row of the training data's shape, not a header."""
    try:
        first = next(read_chunks(Path(path), path, data_format, False, settings.columns, 1), None)
    except DataError:
        return False
    names = {*settings.text_columns, "text"}
    return first is not None and not names & {str(v) for v in first.frame.iloc[0].tolist()}


def input_chunks(path: str, layout: InputLayout, chunk_rows: int = 10_000) -> Iterator[Table]:
    return read_chunks(
        Path(path), path, layout.data_format, layout.header, layout.columns, chunk_rows
    )


def input_texts(table: Table, settings: CheckpointSettings) -> list[str]:
    """Each row's model input: the training text columns joined (and cleaned) as in training,
    or a `text` column."""
    text_columns = settings.text_columns
    if set(text_columns) <= set(table.frame.columns):
        check_text_values(table, text_columns)
        texts = join_text(table.frame, text_columns, settings.clean_backslashes)
    elif "text" in table.frame.columns:
        check_text_values(table, ["text"])
        texts = table.frame["text"].fillna("").astype(str)
    else:
        raise InputError(
            f"{table.name} needs a 'text' column, or {' and '.join(map(repr, text_columns))} "
            f"(it has: {', '.join(map(str, table.frame.columns))})"
        )
    return texts.tolist()
