"""From a data file's label column to class ids: integer labels through `data.label_offset`,
string labels by class name, with the class list given in params or found in the train split."""

from __future__ import annotations

import re
from collections.abc import Sequence

from textclf.formats import DataError, Table

INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")  # ASCII digits only: int() also takes '٣'


def as_integer(value: object) -> int | None:
    """`value` as an integer label if it is one (an int, or a string of ASCII digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and INTEGER.fullmatch(value):
        return int(value)
    return None


def find_classes(table: Table, label_column: str) -> list[str]:
    """`classes: null`: the sorted distinct string labels of the train split."""
    names = set()
    for row, value in enumerate(table.frame[label_column]):
        if as_integer(value) is not None:
            raise DataError(
                f"{table.where(row)}: label {value!r} is an integer, and data.classes is null: "
                "list the class names in data.classes (label_offset says which value is the first)"
            )
        names.add(_name(value, table, row))
    if len(names) < 2:
        raise DataError(f"{table.name}: the train split has {len(names)} class(es), needs 2")
    return sorted(names)


def label_ids(
    table: Table,
    label_column: str,
    classes: Sequence[str],
    offset: int,
    header: bool,
    found_in_train: bool = False,
) -> list[int]:
    """The class id of every row; DataError at the first label that names no class.
    `found_in_train`: the classes are the train split's labels (`data.classes: null`)."""
    index = {name: i for i, name in enumerate(classes)}
    ids = []
    for row, value in enumerate(table.frame[label_column]):
        if isinstance(value, str) and value in index:
            ids.append(index[value])
            continue
        number = as_integer(value)
        if number is None:
            name = _name(value, table, row)
            if found_in_train:
                raise DataError(
                    f"{table.where(row)}: label {name!r} never occurs in the train split "
                    f"(classes: {', '.join(classes)})"
                )
            hint = ""
            if row == 0 and not header and not table.parquet:
                hint = " (a header row? set data.header: true)"
            raise DataError(
                f"{table.where(row)}: label {name!r} is not an integer or a class in "
                f"data.classes ({', '.join(classes)}){hint}"
            )
        if not offset <= number < offset + len(classes):
            raise DataError(
                f"{table.where(row)}: label {number} out of range "
                f"{offset}..{offset + len(classes) - 1} (data.classes lists {len(classes)} "
                f"classes, data.label_offset is {offset})"
            )
        ids.append(number - offset)
    return ids


def check_known(table: Table, ids: Sequence[int], known: set[int], classes: Sequence[str]):
    """Every label of `table` must occur in the train split: a model cannot learn the others."""
    for row, label in enumerate(ids):
        if label not in known:
            raise DataError(
                f"{table.where(row)}: label {classes[label]!r} never occurs in the train split"
            )


def _name(value: object, table: Table, row: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DataError(f"{table.where(row)}: empty label")
    if not isinstance(value, str):
        raise DataError(
            f"{table.where(row)}: label {value!r} is neither an integer nor a class name"
        )
    return value
