"""String labels name their class whatever the whitespace around them, as integer labels do."""

from __future__ import annotations

import pandas as pd
import pytest

from textclf.data.labels import find_classes, label_ids
from textclf.data.table import DataError, Table


def table(labels: list) -> Table:
    return Table(
        pd.DataFrame({"label": labels}, dtype=object), list(range(2, 2 + len(labels))), "t.jsonl"
    )


def test_labels_that_differ_only_by_surrounding_whitespace_are_one_class():
    labels = ["Sports", "Sports ", " World", "World\t", "Sports"]
    classes = find_classes([table(labels)], "label")
    assert classes == ["Sports", "World"]
    assert label_ids(table(labels), "label", classes, 0, True, found_in_train=True) == [
        0,
        0,
        1,
        1,
        0,
    ]
    assert label_ids(table([" 2 ", "1"]), "label", ["a", "b"], 1, True) == [1, 0]


def test_class_names_that_are_integers_are_matched_by_value_whatever_the_spelling():
    """classes ['0', '1'] with the default label_offset 1: the string "1", " 1" and the JSON
    integer 1 are all class '1' (not '1' for one spelling and '0' for another)."""
    labels = ["1", " 1", 1, "0", 0, " 0 "]
    assert label_ids(table(labels), "label", ["0", "1"], 1, True) == [1, 1, 1, 0, 0, 0]
    stars = ["1", "2", "3", "4", "5"]
    assert label_ids(table([5, "5", " 1", 1]), "label", stars, 1, True) == [4, 4, 0, 0]
    with pytest.raises(DataError, match=r"t.jsonl:4: label 7 is not a class in data.classes"):
        label_ids(table(["1", "0", 7]), "label", ["0", "1"], 1, True)
