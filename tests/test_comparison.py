"""Comparing two models' predictions.csv: the numbers, the verdict, and what is incomparable."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from textclf.config.errors import UserError
from textclf.evaluate.comparison import (
    IncomparableError,
    compare,
    read_predictions,
    render,
    verdict,
)

CLASSES = ["World", "Sports"]


def predictions(labels: list[int], predicted: list[int], classes=CLASSES) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "text": [f"text {i}" for i in range(len(labels))],
            "label": [classes[i] for i in labels],
            "predicted": [classes[i] for i in predicted],
        }
    )
    for index, name in enumerate(classes):
        frame[f"p_{name}"] = [1.0 if p == index else 0.0 for p in predicted]
    # as read back from disk: all strings
    return read_predictions(io.StringIO(frame.to_csv(index=False)), "run")


def test_b_right_where_a_is_wrong_is_b_better():
    labels = [0, 1] * 100
    a = predictions(labels, [0] * 200)  # right on half the rows
    b = predictions(labels, labels)
    result = compare([("A", a)], [("B", b)])
    assert result["a_accuracy"] == 0.5 and result["b_accuracy"] == 1.0
    assert result["accuracy_diff"] == 0.5
    assert result["only_b_right"] == 100 and result["only_a_right"] == 0
    assert verdict(result) == "B better"
    assert verdict(compare([("B", b)], [("A", a)])) == "A better"
    text = render(result, "main", "exp-1")
    assert "A: main" in text and "verdict (5% level): B better" in text


def test_the_same_runs_on_both_sides_show_no_difference():
    labels = [0, 1] * 50
    rng = np.random.default_rng(0)
    one = predictions(labels, rng.integers(0, 2, 100).tolist())
    two = predictions(labels, rng.integers(0, 2, 100).tolist())
    result = compare([("s1", one), ("s2", two)], [("s2", two), ("s1", one)])
    assert result["accuracy_diff"] == 0 and "mcnemar_p" not in result  # groups: no McNemar
    assert verdict(result) == "no significant difference"


def test_other_test_rows_or_classes_are_incomparable():
    labels = [0, 1, 0, 1]
    base = predictions(labels, labels)
    with pytest.raises(
        IncomparableError, match=r"^cannot compare A and B: different test rows \(4 vs 3\)$"
    ):
        compare([("A", base)], [("B", predictions(labels[:3], labels[:3]))])
    shuffled = predictions([1, 0, 0, 1], [1, 0, 0, 1])
    with pytest.raises(IncomparableError, match="test row 1 has another label"):
        compare([("A", base)], [("B", shuffled)])
    other = predictions(labels, labels, classes=["World", "Business"])
    with pytest.raises(
        IncomparableError, match=r"different classes \(World, Sports vs World, Business\)"
    ):
        compare([("A", base)], [("B", other)])


def test_a_file_that_is_not_a_predictions_csv_is_refused_in_one_line():
    with pytest.raises(UserError, match="^exp-1: predictions.csv has no column label$"):
        read_predictions(io.StringIO("text,predicted,p_a\nx,a,1\n"), "exp-1")
    with pytest.raises(UserError, match="^exp-1: predictions.csv has no column p_<class>$"):
        read_predictions(io.StringIO("text,label,predicted\nx,a,a\n"), "exp-1")
    bad = "text,label,predicted,p_a\nx,a,z,1\n"
    runs = [(name, read_predictions(io.StringIO(bad), name)) for name in "AB"]
    with pytest.raises(UserError, match="^A: .*column predicted has 'z', not one of its classes"):
        compare(runs[:1], runs[1:])
