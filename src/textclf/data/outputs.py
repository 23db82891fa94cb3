"""A command's output table (`predict --output`, `select --output`), written whole or not at
all, in the format its name says: CSV or TSV for people, with every cell a spreadsheet would
run as a formula made inert (textclf.config.spreadsheet); JSON Lines; Parquet; `.gz` compressed
where the name ends so. An output that is the input file (by name, by a link or otherwise) keeps
the input's format; a command whose output would lose rows of its input refuses it first."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pandas as pd

from textclf.config.files import OutputError, check_output_folder, write_output
from textclf.config.spreadsheet import for_people
from textclf.data.formats import DataError, detect_format


def is_the_input(output: str | Path, source: str | Path) -> bool:
    """Whether writing `output` would write the file `source` (the same name, a link to it, a
    hard link, or the same file reached another way)."""
    try:
        return os.path.samefile(output, source)
    except OSError:  # one of them does not exist (yet), or is no file
        return False


def check_output(output: str | Path, source: str | Path | None, keeps_every_row: bool) -> None:
    """OutputError, before any work, if `output` cannot be written: its folder is missing, or
    it is the input file and the command's output holds fewer rows than the input."""
    check_output_folder(output)
    if source is not None and not keeps_every_row and is_the_input(output, source):
        raise OutputError(
            f"--output {output} is the --input file: writing it would replace every row of "
            "the input with the chosen ones; choose another output file"
        )


def write_table(frame: pd.DataFrame, output: str | Path, source: str | Path | None = None) -> None:
    """`frame` to `output`, in the input's format if `output` is the input file, else in the
    format its name says (CSV if it says none)."""
    name = str(source if source is not None and is_the_input(output, source) else output)
    try:
        data_format = detect_format(name)
    except DataError:
        data_format = "csv"
    compression = "gzip" if name.lower().endswith(".gz") else None
    if data_format in ("csv", "tsv"):
        separator = "\t" if data_format == "tsv" else ","
        people = for_people(frame)

        def write(path: Path) -> None:
            people.to_csv(path, sep=separator, index=False, compression=compression)

    elif data_format == "jsonl":

        def write(path: Path) -> None:
            frame.to_json(
                path, orient="records", lines=True, force_ascii=False, compression=compression
            )

    else:

        def write(path: Path) -> None:
            with gzip.open(path, "wb") if compression else open(path, "wb") as file:
                frame.to_parquet(file, index=False, compression="zstd")

    write_output(output, write)
