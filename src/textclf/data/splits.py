"""Which rows go to validation, and which rows a row cap keeps, as boolean masks over a split's
rows computed from the labels alone: prepare streams the text and never holds it all.

The masks select the rows that scikit-learn's `train_test_split(..., stratify=labels,
random_state=seed)` and pandas' `DataFrame.sample(n, random_state=seed)` select, so the AG News
default keeps the notebook's split. Those calls build a Python object per row (about 0.8 GB for
a 12-million-row stratified split); here each class is shuffled with numpy arrays, drawing the
same random numbers in the same order (tests/test_splits.py checks the rows are the same).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.utils.extmath import _approximate_mode

from textclf.data.table import DataError


def validation_mask(
    labels: np.ndarray | None,
    rows: int,
    validation_size: float,
    seed: int,
    class_names: Sequence[str] | None = None,
) -> np.ndarray:
    """True for the rows held out for validation: stratified by `labels` (a class id per row),
    or a plain seeded shuffle when `labels` is None (multi-label rows have label sets).
    `class_names` name the classes in the errors."""
    n_validation = math.ceil(validation_size * rows)
    n_train = rows - n_validation
    if n_train < 1 or n_validation < 1:
        raise DataError(
            f"cannot split {rows} train rows with prepare.validation_size {validation_size}: "
            "one side would be empty"
        )
    rng = np.random.RandomState(seed)
    mask = np.zeros(rows, dtype=bool)
    if labels is None:
        mask[rng.permutation(rows)[:n_validation]] = True
        return mask
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        lone = int(classes[counts.argmin()])
        name = repr(class_names[lone]) if class_names else f"id {lone}"
        raise DataError(
            f"cannot split {rows} train rows by label: class {name} has a single row (each "
            "class needs two, one per side)"
        )
    if min(n_train, n_validation) < len(classes):
        raise DataError(
            f"cannot split {rows} train rows by label: each side needs a row of each of "
            f"{len(classes)} classes (change prepare.validation_size)"
        )
    train_per_class = _approximate_mode(counts, n_train, rng)
    validation_per_class = _approximate_mode(counts - train_per_class, n_validation, rng)
    for label, count, start, size in zip(
        classes, counts, train_per_class, validation_per_class, strict=True
    ):
        members = np.flatnonzero(labels == label)
        shuffled = members.take(rng.permutation(count))
        mask[shuffled[start : start + size]] = True
    return mask


def cap_mask(mask: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """The rows of `mask` that a cap of `max_rows` keeps: a seeded random subset of them (all
    of them if the cap is None or not below their number)."""
    rows = np.flatnonzero(mask)
    if max_rows is None or len(rows) <= max_rows:
        return mask
    kept = np.zeros_like(mask)
    kept[rows[np.random.RandomState(seed).choice(len(rows), size=max_rows, replace=False)]] = True
    return kept
