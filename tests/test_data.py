from pathlib import Path

import pandas as pd
import pytest
from fixtures import news_rows, write_news_csv

from textclf.data import (
    DataError,
    cap_rows,
    read_raw_csv,
    split_validation,
    to_examples,
    write_parquet,
)


def test_to_examples_joins_title_and_description_replaces_backslashes_and_shifts_labels():
    raw = pd.DataFrame(
        {"label": [1, 4], "title": ["Oil\\Gas up", "Chips"], "description": ["Prices rise", "a\\b"]}
    )
    examples = to_examples(raw)
    assert examples["text"].tolist() == ["Oil Gas up Prices rise", "Chips a b"]
    assert examples["label"].tolist() == [0, 3]


def test_read_raw_csv_keeps_quoted_commas_and_quotes(tmp_path: Path):
    path = tmp_path / "raw.csv"
    path.write_text('"3","Stocks, bonds","He said ""sell"" now"\n', encoding="utf-8")
    raw = read_raw_csv(path, num_classes=4)
    assert raw.to_dict("records") == [
        {"label": 3, "title": "Stocks, bonds", "description": 'He said "sell" now'}
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('"1","a","b"\n"2","only two"\n', "raw.csv:2: expected 3 columns"),
        ('label,title,description\n"1","a","b"\n', "raw.csv:1: label 'label' is not an integer"),
        ('"1","a","b"\n"5","c","d"\n', "raw.csv:2: label 5 out of range 1..4"),
        ('"0","a","b"\n', "raw.csv:1: label 0 out of range 1..4"),
    ],
)
def test_read_raw_csv_rejects_bad_rows_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "raw.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_raw_csv(path, num_classes=4)


def test_read_raw_csv_rejects_non_utf8_bytes_with_line(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_bytes(b'"1","a","b"\n"2","caf\xe9","d"\n')
    with pytest.raises(DataError, match="raw.csv:2: bytes that are not UTF-8"):
        read_raw_csv(path, num_classes=4)


def test_read_raw_csv_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.csv: file not found"):
        read_raw_csv(tmp_path / "missing.csv", num_classes=4)


def test_split_is_stratified_seeded_and_keeps_file_order(tmp_path):
    examples = to_examples(read_raw_csv(write_news_csv(tmp_path / "t.csv", news_rows(200, 0)), 4))
    train, validation = split_validation(examples, validation_size=0.1, seed=1122)
    again_train, _ = split_validation(examples, validation_size=0.1, seed=1122)
    assert len(validation) == 20 and len(train) == 180
    assert validation["label"].value_counts().tolist() == [5, 5, 5, 5]
    assert train.index.is_monotonic_increasing and validation.index.is_monotonic_increasing
    assert train.equals(again_train)
    assert set(train.index).isdisjoint(validation.index)


def test_cap_rows_takes_a_seeded_subset_only_when_needed():
    frame = pd.DataFrame({"text": [str(i) for i in range(50)], "label": [i % 2 for i in range(50)]})
    assert cap_rows(frame, None, seed=1) is frame
    assert cap_rows(frame, 80, seed=1) is frame
    capped = cap_rows(frame, 10, seed=1)
    assert len(capped) == 10 and capped.equals(cap_rows(frame, 10, seed=1))
    assert capped.index.is_monotonic_increasing


def test_write_parquet_is_byte_deterministic(tmp_path):
    frame = pd.DataFrame({"text": ["a", "b"], "label": [0, 1]})
    write_parquet(frame, tmp_path / "one.parquet")
    write_parquet(frame, tmp_path / "two.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
    assert pd.read_parquet(tmp_path / "one.parquet").equals(frame)
