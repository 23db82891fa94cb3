"""Bootstrap intervals and paired tests against known cases and sklearn."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from sklearn.metrics import f1_score

from textclf.evaluate.statistics import SEED, bootstrap_intervals, mcnemar, paired_difference
from textclf.tuning.leaderboard import COMPLETE, Entry, build_board


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


def test_identical_predictions_differ_by_exactly_zero_with_p_one():
    labels, predicted = predictions(1000, 0.8)
    result = paired_difference(labels, [predicted], [predicted.copy()], 4)
    assert set(result.values()) == {0.0}
    assert mcnemar(predicted == labels, predicted == labels) == {
        "mcnemar_p": 1.0,
        "only_a_right": 0,
        "only_b_right": 0,
    }


def test_a_model_right_wherever_the_other_is_wrong_is_significantly_better():
    labels, a = predictions(1000, 0.8)
    b = labels.copy()  # right on every row, so on all of A's mistakes
    test = mcnemar(a == labels, b == labels)
    assert test["only_a_right"] == 0 and test["only_b_right"] == int((a != labels).sum())
    assert test["mcnemar_p"] < 0.001
    diff = paired_difference(labels, [a], [b], 4)
    assert 0 < diff["accuracy_diff_low"] < diff["accuracy_diff"] < diff["accuracy_diff_high"]
    assert diff["accuracy_diff"] == round(1 - (a == labels).mean(), 6)
    # direction: A minus B is the mirror image
    assert paired_difference(labels, [b], [a], 4)["accuracy_diff"] == -diff["accuracy_diff"]


def test_mcnemar_matches_the_exact_binomial_on_a_known_case():
    # 10 rows only A gets right, 3 only B: two-sided exact p = 2 * P(X <= 3 | n=13, 1/2)
    correct_a = np.array([True] * 10 + [False] * 3 + [True] * 50)
    correct_b = np.array([False] * 10 + [True] * 3 + [True] * 50)
    expected = 2 * sum(comb(13, k) for k in range(4)) / 2**13
    assert mcnemar(correct_a, correct_b)["mcnemar_p"] == pytest.approx(expected, rel=1e-5)


def test_paired_bounds_bracket_the_difference_and_narrow_as_rows_grow():
    widths = []
    for rows in (300, 3000, 30000):
        labels, a = predictions(rows, 0.80, seed=1)
        _, b = predictions(rows, 0.84, seed=2)
        b = np.where(labels == a, a, b)  # B keeps A's right answers: a paired improvement
        diff = paired_difference(labels, [a], [b], 4)
        for metric in ("accuracy", "f1_macro"):
            low, high = diff[f"{metric}_diff_low"], diff[f"{metric}_diff_high"]
            assert low <= diff[f"{metric}_diff"] <= high
        widths.append(diff["accuracy_diff_high"] - diff["accuracy_diff_low"])
    assert widths[0] > widths[1] > widths[2]
    assert paired_difference(labels, [a], [b], 4) == paired_difference(labels, [a], [b], 4)


def test_groups_score_their_mean_and_seed_spread_widens_the_interval():
    labels, a1 = predictions(2000, 0.70, seed=1)
    _, a2 = predictions(2000, 0.80, seed=2)
    _, b = predictions(2000, 0.78, seed=3)
    group = paired_difference(labels, [a1, a2], [b], 4)
    mean_a = ((a1 == labels).mean() + (a2 == labels).mean()) / 2
    assert group["accuracy_diff"] == round((b == labels).mean() - mean_a, 6)
    single = paired_difference(labels, [a2], [b], 4)
    group_width = group["accuracy_diff_high"] - group["accuracy_diff_low"]
    assert group_width > single["accuracy_diff_high"] - single["accuracy_diff_low"]


def test_the_leaderboard_interval_is_of_the_seeds_mean_it_stands_beside():
    """`textclf search --seeds`: a configuration's score is its seeds' mean, so its interval is
    the mean's (rows and seeds resampled), not the first seed's."""
    generator = np.random.default_rng(0)
    names = ["World", "Sports", "Business", "Sci/Tech"]
    labels = generator.integers(0, 4, 300)
    good = np.where(generator.random(300) < 0.9, labels, (labels + 1) % 4)
    poor = np.where(generator.random(300) < 0.6, labels, (labels + 1) % 4)
    runs = [[names[i] for i in good], [names[i] for i in poor]]
    entry = Entry("search-0", {}, COMPLETE, [0.9, 0.6], runs)
    board = build_board([entry], "eval_accuracy", False, [names[i] for i in labels], names)
    low, high = board.bounds["search-0"]
    mean = ((good == labels).mean() + (poor == labels).mean()) / 2
    assert low < mean < high
    first_seed = bootstrap_intervals(labels, good, 4)
    assert not first_seed["accuracy_low"] < mean < first_seed["accuracy_high"]
    single = build_board(
        [Entry("one", {}, COMPLETE, [0.9], runs[:1])], "m", False, [names[i] for i in labels], names
    )
    assert single.bounds["one"] == (first_seed["accuracy_low"], first_seed["accuracy_high"])
