"""Multi-label scores and their bootstrap bounds against scikit-learn on hand-made sets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, hamming_loss

from textclf.evaluate.multilabel import multilabel_intervals, multilabel_scores
from textclf.evaluate.statistics import SEED, resampled_rows

RNG = np.random.default_rng(0)
TRUTH = RNG.random((300, 4)) < 0.3
FLIPS = RNG.random((300, 4)) < 0.1
CHOSEN = np.where(FLIPS, ~TRUTH, TRUTH)


def test_scores_match_scikit_learn():
    scores = multilabel_scores(TRUTH, CHOSEN)
    assert scores["accuracy"] == pytest.approx(np.mean((TRUTH == CHOSEN).all(axis=1)))
    assert scores["hamming_loss"] == pytest.approx(hamming_loss(TRUTH, CHOSEN))
    assert scores["f1_micro"] == pytest.approx(f1_score(TRUTH, CHOSEN, average="micro"))
    assert scores["f1_macro"] == pytest.approx(f1_score(TRUTH, CHOSEN, average="macro"))


def test_bounds_bracket_the_scores_and_come_from_the_seeded_resamples():
    bounds = multilabel_intervals(TRUTH, CHOSEN)
    scores = multilabel_scores(TRUTH, CHOSEN)
    for name in ("accuracy", "f1_macro"):
        assert bounds[f"{name}_low"] < scores[name] < bounds[f"{name}_high"]
    # the same resamples as the single-label bounds: recompute them with scikit-learn
    rows = resampled_rows(len(TRUTH), 1000, SEED)
    f1 = [f1_score(TRUTH[r], CHOSEN[r], average="macro", zero_division=0) for r in rows]
    low, high = np.percentile(f1, [2.5, 97.5])
    assert (bounds["f1_macro_low"], bounds["f1_macro_high"]) == pytest.approx((low, high), abs=1e-6)
    assert multilabel_intervals(TRUTH, TRUTH) == {
        "accuracy_low": 1.0,
        "accuracy_high": 1.0,
        "f1_macro_low": 1.0,
        "f1_macro_high": 1.0,
    }
