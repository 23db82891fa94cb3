"""Class weights for imbalanced data (`train.class_weights: balanced`): every class, or every
label of a multi-label task, weighs as much in the loss as the others in total."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def label_matrix(labels: Sequence, n_classes: int) -> np.ndarray:
    """Rows x classes indicators: from class ids, or from lists of ids (multi-label)."""
    matrix = np.zeros((len(labels), n_classes), dtype=np.float32)
    for row, label in enumerate(labels):
        matrix[row, np.asarray(label, dtype=np.int64)] = 1
    return matrix


def balanced_weights(labels: Sequence, n_classes: int, multi_label: bool = False) -> np.ndarray:
    """One weight per class from the train split's labels.

    Single-label: scikit-learn's "balanced" rule, rows / (classes x rows of the class), which
    `class_weight="balanced"` of the baseline applies too. Multi-label: the BCE `pos_weight`
    of each label, rows without it / rows with it. A class with no rows gets weight 1."""
    counts = label_matrix(labels, n_classes).sum(axis=0, dtype=np.float64)
    rows = len(labels)
    with np.errstate(divide="ignore"):
        weights = (rows - counts) / counts if multi_label else rows / (n_classes * counts)
    return np.where(counts > 0, weights, 1.0).round(6)


def class_weights(
    mode: str, labels: Sequence, n_classes: int, multi_label: bool = False
) -> np.ndarray:
    """The weights `train.class_weights` (`none` or `balanced`) stands for."""
    if mode == "balanced":
        return balanced_weights(labels, n_classes, multi_label)
    return np.ones(n_classes)
