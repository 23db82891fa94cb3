"""String labels name their class whatever the whitespace around them, as integer labels do."""

from __future__ import annotations

import pandas as pd

from textclf.data.labels import find_classes, label_ids
from textclf.data.table import Table


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
