"""How sure a test metric, or a difference between two models, is: seeded bootstrap intervals
over the test rows and McNemar's exact test.

On 2,000 test rows an accuracy is only known to about +/-1.6 points; the intervals written
beside each metric say so, deterministically (the same rows and seed give the same bytes).
Two models scored on the same rows are compared pairwise: both are resampled with the same
rows, which cancels most of the test set's own noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest

RESAMPLES = 1000
SEED = 20240101
LEVEL = 0.95
METRICS = ("accuracy", "f1_macro")


def bootstrap_intervals(
    labels: np.ndarray,
    predicted: np.ndarray,
    num_classes: int,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, float]:
    """95% percentile-bootstrap bounds of accuracy and macro F1: `accuracy_low`,
    `accuracy_high`, `f1_macro_low`, `f1_macro_high`."""
    rows = resampled_rows(len(labels), resamples, seed)
    scores = resampled_scores(np.asarray(labels), np.asarray(predicted), num_classes, rows)
    bounds = {}
    for name in METRICS:
        bounds[f"{name}_low"], bounds[f"{name}_high"] = percentile_interval(scores[name])
    return bounds


def paired_difference(
    labels: np.ndarray,
    predicted_a: Sequence[np.ndarray],
    predicted_b: Sequence[np.ndarray],
    num_classes: int,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, float]:
    """B minus A in accuracy and macro F1 on the same test rows, with 95% bootstrap bounds:
    `accuracy_diff`, `accuracy_diff_low`, `accuracy_diff_high`, and the same for `f1_macro`.

    Each side is one run or a group of runs (e.g. one per seed), scored by its mean. Every
    resample draws the test rows once for both sides and, for a group, draws its runs with
    replacement, so the bounds cover the spread between seeds as well as the test rows'."""
    labels = np.asarray(labels)
    rows = resampled_rows(len(labels), resamples, seed)
    generator = np.random.default_rng(seed + 1)
    point, resampled = {}, {}
    for side, runs in (("a", predicted_a), ("b", predicted_b)):
        runs = [np.asarray(run) for run in runs]
        full = np.arange(len(labels))[None, :]
        point[side] = [resampled_scores(labels, run, num_classes, full) for run in runs]
        resampled[side] = group_scores(labels, runs, num_classes, rows, generator)
    result = {}
    for name in METRICS:
        means = {side: np.mean([s[name][0] for s in point[side]]) for side in point}
        result[f"{name}_diff"] = round(float(means["b"] - means["a"]), 6)
        low, high = percentile_interval(resampled["b"][name] - resampled["a"][name])
        result[f"{name}_diff_low"], result[f"{name}_diff_high"] = low, high
    return result


def group_intervals(
    labels: np.ndarray,
    runs: Sequence[np.ndarray],
    num_classes: int,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, float]:
    """95% bootstrap bounds of the mean accuracy and macro F1 of a group of runs (one per
    seed) on the same rows, rows and runs resampled as in `paired_difference`: the interval
    that goes with a mean over seeds (one run: `bootstrap_intervals`' bounds)."""
    labels = np.asarray(labels)
    rows = resampled_rows(len(labels), resamples, seed)
    generator = np.random.default_rng(seed + 1)
    scores = group_scores(labels, [np.asarray(run) for run in runs], num_classes, rows, generator)
    bounds = {}
    for name in METRICS:
        bounds[f"{name}_low"], bounds[f"{name}_high"] = percentile_interval(scores[name])
    return bounds


def group_scores(
    labels: np.ndarray,
    runs: Sequence[np.ndarray],
    num_classes: int,
    rows: np.ndarray,
    generator: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Per resample of `rows`, the mean score of the runs drawn with replacement."""
    per_run = [resampled_scores(labels, run, num_classes, rows) for run in runs]
    resamples = len(rows)
    drawn = generator.integers(0, len(runs), size=(resamples, len(runs)))
    picked = np.arange(resamples)[:, None]
    return {
        name: np.stack([s[name] for s in per_run])[drawn, picked].mean(axis=1) for name in METRICS
    }


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float]:
    """McNemar's exact test on paired right/wrong outcomes: the two-sided binomial p-value of
    the rows only one model gets right (`only_a_right`, `only_b_right`). p = 1 with no such
    rows: two models that never disagree are indistinguishable."""
    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(correct_b & ~correct_a))
    discordant = only_a + only_b
    p = binomtest(only_b, discordant, 0.5).pvalue if discordant else 1.0
    return {"mcnemar_p": float(f"{p:.6g}"), "only_a_right": only_a, "only_b_right": only_b}


def resampled_rows(rows: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, rows, size=(resamples, rows))


def resampled_scores(
    labels: np.ndarray, predicted: np.ndarray, num_classes: int, rows: np.ndarray
) -> dict[str, np.ndarray]:
    """Accuracy and macro F1 of each resample (one row of `rows` indexes the test rows)."""
    true, guess = labels[rows], predicted[rows]
    resamples = len(rows)
    # per resample and class: correct, actual and predicted counts -> F1 = 2 TP / (actual + pred)
    offsets = np.arange(resamples)[:, None] * num_classes

    def per_class(values: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        keys = (values + offsets) if keep is None else (values + offsets)[keep]
        flat = np.bincount(keys.ravel(), minlength=resamples * num_classes)
        return flat.reshape(resamples, num_classes)

    hits = per_class(true, keep=true == guess)
    denominator = per_class(true) + per_class(guess)
    f1 = np.divide(2 * hits, denominator, out=np.zeros(hits.shape), where=denominator > 0)
    return {"accuracy": (true == guess).mean(axis=1), "f1_macro": f1.mean(axis=1)}


def percentile_interval(values: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return round(float(low), 6), round(float(high), 6)
