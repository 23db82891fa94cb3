"""The streamed prepare stage's split and caps pick the rows that scikit-learn's
train_test_split and pandas' sample pick (the notebook's split), from labels alone."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from textclf.data.splits import cap_mask, validation_mask
from textclf.data.table import DataError


@pytest.mark.parametrize(
    ("rows", "classes", "size", "seed"),
    [(200, 4, 0.1, 1122), (5_600, 4, 0.1, 1122), (777, 7, 0.23, 3), (120_000, 4, 0.1, 1122)],
)
def test_validation_rows_are_train_test_splits(rows, classes, size, seed):
    labels = np.random.default_rng(rows).integers(0, classes, rows)
    labels[labels == 1] = 2 if classes > 4 else 1  # a missing class id changes nothing
    _, held_out = train_test_split(
        np.arange(rows), test_size=size, random_state=seed, stratify=labels
    )
    mask = validation_mask(labels, rows, size, seed)
    assert np.flatnonzero(mask).tolist() == sorted(held_out)
    _, shuffled = train_test_split(np.arange(rows), test_size=size, random_state=seed)
    assert np.flatnonzero(validation_mask(None, rows, size, seed)).tolist() == sorted(shuffled)


def test_caps_are_pandas_samples():
    frame = pd.DataFrame({"row": np.arange(1_000)})
    for max_rows, seed in [(10, 1), (333, 1122), (999, 7)]:
        expected = frame.sample(n=max_rows, random_state=seed).sort_index()["row"].tolist()
        assert np.flatnonzero(cap_mask(np.ones(1_000, bool), max_rows, seed)).tolist() == expected
    # within a split: the cap samples among the split's rows, in their order
    split = np.arange(1_000) % 3 == 0
    among = frame[split].sample(n=50, random_state=5).sort_index()["row"].tolist()
    assert np.flatnonzero(cap_mask(split, 50, 5)).tolist() == among
    assert cap_mask(split, None, 5) is split and cap_mask(split, 10_000, 5) is split


def test_unsplittable_labels_are_data_errors():
    with pytest.raises(DataError, match="class id 3 has a single row"):
        validation_mask(np.array([0, 0, 1, 1, 2, 2, 3]), 7, 0.5, 0)
    names = ["World", "Sports", "Business", "Sci/Tech"]
    with pytest.raises(DataError, match="class 'Sci/Tech' has a single row"):
        validation_mask(np.array([0, 0, 1, 1, 2, 2, 3]), 7, 0.5, 0, names)
    with pytest.raises(DataError, match="each side needs a row of each of 4 classes"):
        validation_mask(np.repeat(np.arange(4), 10), 40, 0.05, 0)
    with pytest.raises(DataError, match="one side would be empty"):
        validation_mask(None, 1, 0.5, 0)
