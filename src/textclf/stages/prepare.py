"""Stage prepare: raw CSVs -> data/prepared/{train,validation,test}.parquet (text, label).

Rows whose title and description are both empty are dropped and counted; duplicates are kept,
as in the notebook. metrics/data.json reports rows per split and class, and what was dropped.
"""

from __future__ import annotations

import pandas as pd

from textclf.data import (
    PREPARED_DIR,
    RAW_DIR,
    cap_rows,
    read_raw_csv,
    split_validation,
    to_examples,
    write_parquet,
)
from textclf.files import atomic_path, write_json
from textclf.metrics import DATA_REPORT
from textclf.params import load_params
from textclf.stages import run


def main() -> None:
    params = load_params()
    prepare, classes = params.prepare, params.data.classes
    dropped = {}
    examples = {}
    for source in ("train", "test"):
        frame = to_examples(read_raw_csv(RAW_DIR / f"{source}.csv", len(classes)))
        empty = frame["text"].str.strip() == ""
        dropped[f"{source}_empty_text"] = int(empty.sum())
        examples[source] = frame[~empty]

    train, validation = split_validation(examples["train"], prepare.validation_size, prepare.seed)
    splits = {
        "train": cap_rows(train, prepare.max_train_rows, prepare.seed),
        "validation": cap_rows(validation, prepare.max_validation_rows, prepare.seed),
        "test": cap_rows(examples["test"], prepare.max_test_rows, prepare.seed),
    }
    with atomic_path(PREPARED_DIR, directory=True) as output:
        for name, frame in splits.items():
            write_parquet(frame.reset_index(drop=True), output / f"{name}.parquet")
    write_json(DATA_REPORT, data_report(splits, classes, dropped))


def data_report(splits: dict[str, pd.DataFrame], classes: list[str], dropped: dict) -> dict:
    report: dict = {"rows": {name: len(frame) for name, frame in splits.items()}}
    report["rows_per_class"] = {
        name: {
            classes[label]: int(count)
            for label, count in frame["label"].value_counts().sort_index().items()
        }
        for name, frame in splits.items()
    }
    report["dropped"] = dropped
    report["train_test_overlap"] = int(splits["train"]["text"].isin(splits["test"]["text"]).sum())
    return report


if __name__ == "__main__":
    run(main)
