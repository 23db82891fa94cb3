"""From a data file's label column to class ids: integer labels through `data.label_offset`,
string labels by class name, with the class list given in params or found in the train split."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from textclf.data.table import DataError, Table

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


def find_classes(
    tables: Iterable[Table], label_column: str, separator: str | None = None
) -> list[str]:
    """`classes: null`: the sorted distinct string labels of the train split, read chunk by
    chunk (multi-label, with `separator`: of every row's label list)."""
    names, name = set(), ""
    for table in tables:
        name = table.name
        cells = enumerate(table.frame[label_column])
        if separator is not None:
            cells = ((row, v) for row, cell in cells for v in label_values(cell, separator))
        for row, value in cells:
            if as_integer(value) is not None:
                raise DataError(
                    f"{table.where(row)}: label {value!r} is an integer, and data.classes is "
                    "null: list the class names in data.classes (label_offset says which value "
                    "is the first)"
                )
            names.add(_name(value, table, row))
    if len(names) < 2:
        raise DataError(f"{name}: the train split has {len(names)} class(es), needs 2")
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
    lookup = LabelLookup(table, classes, offset, header, found_in_train)
    return [lookup.id(value, row) for row, value in enumerate(table.frame[label_column])]


def label_sets(
    table: Table,
    label_column: str,
    classes: Sequence[str],
    offset: int,
    header: bool,
    separator: str,
    found_in_train: bool = False,
) -> list[list[int]]:
    """Multi-label: the sorted class ids of every row, from a list (JSON Lines, Parquet) or a
    `separator`-separated string (CSV, TSV); an empty list or string is a row with no label."""
    lookup = LabelLookup(table, classes, offset, header, found_in_train)
    return [
        sorted({lookup.id(value, row) for value in label_values(cell, separator)})
        for row, cell in enumerate(table.frame[label_column])
    ]


def label_values(cell: object, separator: str) -> list[object]:
    """The labels of one multi-label cell."""
    if cell is None:
        return []
    if isinstance(cell, str):
        return [part.strip() for part in cell.split(separator)] if cell.strip() else []
    if hasattr(cell, "tolist"):  # a list read from Parquet comes as a numpy array
        cell = cell.tolist()
    return cell if isinstance(cell, list) else [cell]


class LabelLookup:
    """Label values -> class ids, with one-line errors that say where a label is wrong."""

    def __init__(
        self,
        table: Table,
        classes: Sequence[str],
        offset: int,
        header: bool,
        found_in_train: bool,
    ):
        self.table, self.classes, self.offset = table, classes, offset
        self.header, self.found_in_train = header, found_in_train
        self.index = {name: i for i, name in enumerate(classes)}
        # class names that are integers ("0", "1"; star ratings "1".."5") are matched by value:
        # 1, "1" and " 1" are one class, whatever data.label_offset says
        self.by_value = {
            as_integer(name): i for i, name in enumerate(classes) if as_integer(name) is not None
        }

    def id(self, value: object, row: int) -> int:
        if isinstance(value, str) and value in self.index:
            return self.index[value]
        label = self._resolve(value, row)
        if isinstance(value, str):  # a file has few distinct labels: each is parsed once
            self.index[value] = label
        return label

    def _resolve(self, value: object, row: int) -> int:
        table, classes, offset = self.table, self.classes, self.offset
        number = as_integer(value)
        if number is None:
            name = _name(value, table, row)
            if name in self.index:  # the same class with surrounding whitespace
                return self.index[name]
            if self.found_in_train:
                raise DataError(
                    f"{table.where(row)}: label {name!r} never occurs in the train split "
                    f"(classes: {', '.join(classes)})"
                )
            hint = ""
            if row == 0 and not self.header and not table.parquet:
                hint = " (a header row? set data.header: true)"
            raise DataError(
                f"{table.where(row)}: label {name!r} is not an integer or a class in "
                f"data.classes ({', '.join(classes)}){hint}"
            )
        if self.by_value:
            if number not in self.by_value:
                raise DataError(
                    f"{table.where(row)}: label {number} is not a class in data.classes "
                    f"({', '.join(classes)}): class names that are integers are matched by value"
                )
            return self.by_value[number]
        if not offset <= number < offset + len(classes):
            raise DataError(
                f"{table.where(row)}: label {number} out of range "
                f"{offset}..{offset + len(classes) - 1} (data.classes lists {len(classes)} "
                f"classes, data.label_offset is {offset})"
            )
        return number - offset


def check_known(table: Table, ids: Sequence, known: set[int], classes: Sequence[str]):
    """Every label of `table` must occur in the train split: a model cannot learn the others.
    `ids`: a class id per row, or a list of them (multi-label)."""
    for row, labels in enumerate(ids):
        for label in labels if isinstance(labels, list) else [labels]:
            if label not in known:
                raise DataError(
                    f"{table.where(row)}: label {classes[label]!r} never occurs in the train split"
                )


def _name(value: object, table: Table, row: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DataError(f"{table.where(row)}: empty label")
    if isinstance(value, (list, tuple, np.ndarray)):
        value = list(value.tolist() if isinstance(value, np.ndarray) else value)
        raise DataError(
            f"{table.where(row)}: label {value!r} is a list: set data.multi_label: true for "
            "rows with several labels"
        )
    if not isinstance(value, str):
        raise DataError(
            f"{table.where(row)}: label {value!r} is neither an integer nor a class name"
        )
    return value.strip()  # "Sports " is "Sports", as " 2 " is 2


def label_matrix(labels: Sequence, n_classes: int) -> np.ndarray:
    """Rows x classes indicators: from class ids, or from lists of ids (multi-label)."""
    matrix = np.zeros((len(labels), n_classes), dtype=np.float32)
    if _is_class_ids(labels):
        matrix[np.arange(len(labels)), labels] = 1
        return matrix
    for row, label in enumerate(labels):
        matrix[row, np.asarray(label, dtype=np.int64)] = 1
    return matrix


def label_counts(labels: Sequence, n_classes: int) -> np.ndarray:
    """Rows per class (multi-label: rows carrying each label)."""
    if _is_class_ids(labels):
        return np.bincount(labels, minlength=n_classes).astype(np.int64)
    return label_matrix(labels, n_classes).sum(axis=0, dtype=np.float64).astype(np.int64)


def _is_class_ids(labels: Sequence) -> bool:
    """A numpy array of one class id per row (no per-row loop needed)."""
    return isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "iu"
