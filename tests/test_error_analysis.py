"""Calibration metrics and error analysis against hand-computed cases and scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from textclf.evaluate.calibration import calibration_metrics, reliability_table
from textclf.evaluate.metrics import write_test_results
from textclf.evaluate.mistakes import confident_mistakes, costly_confusions

CLASSES = ["a", "b", "c"]


def test_a_calibrated_model_has_zero_ece_and_an_overconfident_one_does_not():
    labels = np.zeros(10, dtype=int)
    probabilities = np.tile([0.8, 0.1, 0.1], (10, 1))
    probabilities[:2] = [0.1, 0.8, 0.1]  # 2 of 10 wrong at confidence 0.8: calibrated
    assert calibration_metrics(labels, probabilities)["ece"] == pytest.approx(0, abs=1e-6)
    overconfident = probabilities.copy()
    overconfident[:, :] = [0.05, 0.05, 0.9]  # 0.9 sure, always wrong
    assert calibration_metrics(labels, overconfident)["ece"] == pytest.approx(0.9)


def test_brier_is_sklearns_summed_over_both_classes_of_a_binary_case():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    positive = rng.random(200)
    probabilities = np.column_stack([1 - positive, positive])
    expected = 2 * brier_score_loss(labels, positive)
    assert calibration_metrics(labels, probabilities)["brier"] == pytest.approx(expected, abs=1e-6)


def test_reliability_table_bins_confidences_and_counts_every_row():
    labels = np.array([0, 0, 1, 1, 2])
    probabilities = np.array(
        [[0.95, 0.03, 0.02], [0.55, 0.45, 0.0], [0.6, 0.4, 0.0], [0.1, 0.85, 0.05], [0.4, 0.3, 0.3]]
    )
    table = reliability_table(labels, probabilities)
    assert table["bin"].tolist() == ["0.3-0.4", "0.5-0.6", "0.8-0.9", "0.9-1.0"]
    assert table["rows"].tolist() == [1, 2, 1, 1]
    assert table["accuracy"].tolist() == [0.0, 0.5, 1.0, 1.0]
    assert table["confidence"].tolist() == [0.4, 0.575, 0.85, 0.95]


def test_confident_mistakes_are_the_surest_wrong_rows_per_true_class():
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    probabilities = np.array(
        [
            [0.2, 0.7, 0.1],  # wrong, 0.7
            [0.1, 0.1, 0.8],  # wrong, 0.8
            [0.9, 0.05, 0.05],  # right: never listed
            [0.3, 0.6, 0.1],  # wrong, 0.6: beyond k=2
            [0.5, 0.4, 0.1],  # wrong, 0.5
            [0.1, 0.8, 0.1],  # right
            [0.2, 0.2, 0.6],  # right
        ]
    )
    texts = [f"t{i}" for i in range(7)]
    mistakes = confident_mistakes(texts, labels, probabilities, CLASSES, per_class=2)
    assert mistakes.columns.tolist() == ["text", "label", "predicted", "probability"]
    assert mistakes["text"].tolist() == ["t1", "t0", "t4"]
    assert mistakes["predicted"].tolist() == ["c", "b", "a"]
    assert mistakes["probability"].tolist() == [0.8, 0.7, 0.5]
    assert confident_mistakes(texts, labels, probabilities, CLASSES, per_class=0).empty


def test_costly_confusions_list_the_most_frequent_wrong_pairs_first():
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 1, 0, 1, 0, 0, 0, 2])
    lines = costly_confusions(labels, predicted, CLASSES).splitlines()
    assert lines[0] == "Costliest confusions (true -> predicted), of 5 wrong test rows:"
    assert [line.split()[:3] for line in lines[1:]] == [
        ["c", "->", "a"],
        ["a", "->", "b"],
        ["b", "->", "a"],
    ]
    assert lines[1].split()[-2:] == ["3", "60.0%"]
    assert costly_confusions(labels, labels, CLASSES) == "No mistakes on the test rows.\n"


def test_mistakes_csv_cells_never_run_as_formulas(tmp_path):
    texts = ['=HYPERLINK("http://x","click")', "+1 oil", "@SUM(A1)", "\tTab", "-1"]
    classes = ["=a", "b"]  # class names are cells too
    labels = np.zeros(len(texts), dtype=int)
    probabilities = np.tile([0.1, 0.9], (len(texts), 1))  # every row a confident mistake
    write_test_results(tmp_path / "test", texts, labels, probabilities, classes)
    written = pd.read_csv(tmp_path / "test/mistakes.csv", dtype=str, keep_default_na=False)
    assert sorted(written["text"]) == sorted(
        ['\'=HYPERLINK("http://x","click")', "'+1 oil", "'@SUM(A1)", "'\tTab", "-1"]
    )  # a number stays a number
    assert set(written["label"]) == {"'=a"} and set(written["predicted"]) == {"b"}
