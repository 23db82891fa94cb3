"""Bootstrap intervals of test metrics against known cases and sklearn."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from textclf.statistics import SEED, bootstrap_intervals


def predictions(rows: int, accuracy: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, rows)
    wrong = (labels + rng.integers(1, 4, rows)) % 4
    return labels, np.where(rng.random(rows) < accuracy, labels, wrong)


def test_bounds_bracket_the_estimate_and_narrow_as_rows_grow():
    widths = []
    for rows in (200, 2000, 20000):
        labels, predicted = predictions(rows, 0.85)
        bounds = bootstrap_intervals(labels, predicted, 4)
        accuracy = (labels == predicted).mean()
        macro = f1_score(labels, predicted, average="macro")
        assert bounds["accuracy_low"] < accuracy < bounds["accuracy_high"]
        assert bounds["f1_macro_low"] < macro < bounds["f1_macro_high"]
        widths.append(bounds["accuracy_high"] - bounds["accuracy_low"])
    assert widths[0] > widths[1] > widths[2]
    # about 2 x 1.96 x sqrt(p (1 - p) / n) for a proportion: 3.1 points at 2,000 rows
    assert 0.025 < widths[1] < 0.04


def test_same_seed_same_numbers_and_perfect_predictions_have_no_spread():
    labels, predicted = predictions(500, 0.8)
    assert bootstrap_intervals(labels, predicted, 4) == bootstrap_intervals(labels, predicted, 4)
    assert bootstrap_intervals(labels, labels, 4) == {
        "accuracy_low": 1.0,
        "accuracy_high": 1.0,
        "f1_macro_low": 1.0,
        "f1_macro_high": 1.0,
    }


def test_macro_f1_of_each_resample_is_sklearns():
    labels, predicted = predictions(300, 0.7)
    resamples = 40
    rows = np.random.default_rng(SEED).integers(0, 300, size=(resamples, 300))
    scores = [
        f1_score(labels[r], predicted[r], labels=range(4), average="macro", zero_division=0)
        for r in rows
    ]
    bounds = bootstrap_intervals(labels, predicted, 4, resamples=resamples)
    low, high = np.percentile(scores, [2.5, 97.5])
    assert bounds["f1_macro_low"] == round(float(low), 6)
    assert bounds["f1_macro_high"] == round(float(high), 6)
