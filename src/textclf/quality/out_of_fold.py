"""Out-of-fold predicted probabilities: every train row scored by a model fitted on the other
folds, never on itself, which is what confident learning needs to tell a wrong label from a
hard example. Folds are stratified by label (multi-label: plain k-fold) and seeded."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from textclf.config.errors import ParamsError
from textclf.config.report_params import BaselineParams
from textclf.train.baseline_model import build_model, fit_and_predict

# (train rows, held-out rows) -> the held-out rows' probabilities, rows x classes
FoldModel = Callable[[np.ndarray, np.ndarray], np.ndarray]


def fold_of_rows(
    labels: Sequence, folds: int, seed: int, classes: Sequence[str], multi_label: bool = False
) -> np.ndarray:
    """Each row's fold, 0..folds-1. ParamsError when a class has fewer rows than folds (it
    could not be held out in every fold)."""
    rows = len(labels)
    if rows < folds:
        raise ParamsError(f"quality.folds ({folds}) is more than the train rows ({rows})")
    assignment = np.zeros(rows, dtype=np.int64)
    if multi_label:
        splits = KFold(folds, shuffle=True, random_state=seed).split(np.zeros(rows))
    else:
        counts = np.bincount(np.asarray(labels), minlength=len(classes))
        present = counts[counts > 0]
        if present.min() < folds:
            rare = classes[int(np.flatnonzero(counts == present.min())[0])]
            raise ParamsError(
                f"quality.folds ({folds}) is more than the train rows of class {rare!r} "
                f"({present.min()}): lower quality.folds"
            )
        splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(
            np.zeros(rows), labels
        )
    for fold, (_, held_out) in enumerate(splits):
        assignment[held_out] = fold
    return assignment


def out_of_fold(folds: np.ndarray, n_classes: int, fit_and_score: FoldModel) -> np.ndarray:
    """Rows x classes: each fold's rows scored by `fit_and_score` fitted on the other folds."""
    probabilities = np.zeros((len(folds), n_classes))
    for fold in range(int(folds.max()) + 1):
        held_out = np.flatnonzero(folds == fold)
        fitted_on = np.flatnonzero(folds != fold)
        probabilities[held_out] = fit_and_score(fitted_on, held_out)
        print(f"Fold {fold + 1}/{folds.max() + 1}: {len(held_out)} rows scored", flush=True)
    return probabilities


def baseline_fold_model(
    texts: Sequence[str],
    labels: list,
    n_classes: int,
    params: BaselineParams,
    class_weights: str = "none",
    multi_label: bool = False,
) -> FoldModel:
    """The baseline stage's TF-IDF + logistic regression, fitted fold by fold."""
    texts = np.asarray(texts, dtype=object)

    def fit_and_score(fitted_on: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        model = build_model(params, class_weights, multi_label)
        given = [labels[i] for i in fitted_on]
        return fit_and_predict(
            model, texts[fitted_on], given, texts[held_out], n_classes, multi_label
        )

    return fit_and_score
