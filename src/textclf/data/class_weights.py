"""Class weights for imbalanced data (`train.class_weights: balanced`): every class, or every
label of a multi-label task, weighs as much in the loss as the others in total."""

from __future__ import annotations

import numpy as np


def balanced_weights(counts: np.ndarray, rows: int, multi_label: bool = False) -> np.ndarray:
    """One weight per class from the train split's rows per class (`counts`) and rows.

    Single-label: scikit-learn's "balanced" rule, rows / (classes x rows of the class), which
    `class_weight="balanced"` of the baseline applies too. Multi-label: the BCE `pos_weight`
    of each label, rows without it / rows with it. A class with no rows gets weight 1."""
    counts = np.asarray(counts, dtype=np.float64)
    with np.errstate(divide="ignore"):
        weights = (rows - counts) / counts if multi_label else rows / (len(counts) * counts)
    return np.where(counts > 0, weights, 1.0).round(6)


def class_weights(
    mode: str, counts: np.ndarray, rows: int, multi_label: bool = False
) -> np.ndarray:
    """The weights `train.class_weights` (`none` or `balanced`) stands for."""
    if mode == "balanced":
        return balanced_weights(counts, rows, multi_label)
    return np.ones(len(counts))
