"""Stage prepare: raw files (data/raw/, any supported format) -> data/prepared/
{train,validation,test}.parquet (text, label id) and schema.json (class names, text columns).

The text is the `data.text_columns` joined with one space; labels are mapped to class ids
(textclf.labels). The validation split is `data.validation_url` if given, else a stratified
share of the train file. Rows with empty text are dropped and counted; duplicates are kept, as
in the notebook. metrics/data.json reports rows per split and class, and what was dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from textclf.class_weights import class_weights, label_matrix
from textclf.data import (
    PREPARED_DIR,
    RAW_DIR,
    SCHEMA_FILE,
    cap_rows,
    split_validation,
    to_examples,
    write_parquet,
)
from textclf.files import atomic_path, redact, write_json
from textclf.formats import read_table, stored_name
from textclf.labels import check_known, find_classes, label_ids, label_sets
from textclf.outputs import DATA_REPORT
from textclf.params import DataParams, load_params
from textclf.stages import run


def main() -> None:
    params = load_params()
    data, prepare = params.data, params.prepare
    sources = {"train": data.train_url, "test": data.test_url}
    if data.validation_url:
        sources["validation"] = data.validation_url
    tables = {split: read_split(split, source, data) for split, source in sources.items()}
    for table in tables.values():
        table.require([*data.text_columns, data.label_column])
    separator = data.label_separator if data.multi_label else None
    classes = data.classes or find_classes(tables["train"], data.label_column, separator)
    examples, dropped = {}, {}
    known: set[int] = set()  # the train split's class ids, set once train is read (it is first)
    for split, table in tables.items():
        ids = labels_of(table, data, classes)
        if split != "train":
            check_known(table, ids, known, classes)
        frame = to_examples(table, data.text_columns, ids, data.clean_backslashes)
        empty = frame["text"].str.strip() == ""
        dropped[f"{split}_empty_text"] = int(empty.sum())
        examples[split] = frame[~empty]
        if split == "train":
            present = label_matrix(examples["train"]["label"], len(classes)).any(axis=0)
            known = set(np.flatnonzero(present).tolist())

    if "validation" in examples:
        train, validation = examples["train"], examples["validation"]
    else:
        train, validation = split_validation(
            examples["train"], prepare.validation_size, prepare.seed, not data.multi_label
        )
    splits = {
        "train": cap_rows(train, prepare.max_train_rows, prepare.seed),
        "validation": cap_rows(validation, prepare.max_validation_rows, prepare.seed),
        "test": cap_rows(examples["test"], prepare.max_test_rows, prepare.seed),
    }
    schema = {
        "classes": classes,
        "text_columns": data.text_columns,
        "clean_backslashes": data.clean_backslashes,
        "label_column": data.label_column,
        "columns": None if data.header else data.columns,
        "multi_label": data.multi_label,
        "label_separator": data.label_separator,
    }
    with atomic_path(PREPARED_DIR, directory=True) as output:
        for name, frame in splits.items():
            write_parquet(frame.reset_index(drop=True), output / f"{name}.parquet")
        write_json(output / SCHEMA_FILE.name, schema)
    report = data_report(splits, classes, dropped)
    # the weights the train stage applies (computed there the same way, from these rows)
    weights = class_weights(
        params.train.class_weights,
        splits["train"]["label"].tolist(),
        len(classes),
        data.multi_label,
    )
    report["class_weights"] = dict(zip(classes, weights.tolist(), strict=True))
    write_json(DATA_REPORT, report)


def labels_of(table, data: DataParams, classes: list[str]) -> list:
    """Each row's class id, or list of class ids with `data.multi_label`."""
    found_in_train = data.classes is None
    if data.multi_label:
        return label_sets(
            table,
            data.label_column,
            classes,
            data.label_offset,
            data.header,
            data.label_separator,
            found_in_train,
        )
    return label_ids(
        table, data.label_column, classes, data.label_offset, data.header, found_in_train
    )


def read_split(split: str, source: str, data: DataParams):
    path = RAW_DIR / stored_name(split, source, data.format)
    return read_table(path, redact(source), data.format, data.header, data.columns)


def data_report(splits: dict[str, pd.DataFrame], classes: list[str], dropped: dict) -> dict:
    """Rows per split and per class (multi-label: rows carrying each label), what was dropped,
    and train/test overlap."""
    report: dict = {"rows": {name: len(frame) for name, frame in splits.items()}}
    report["rows_per_class"] = {
        name: {
            classes[label]: int(count)
            for label, count in enumerate(label_matrix(frame["label"], len(classes)).sum(0))
            if count
        }
        for name, frame in splits.items()
    }
    report["dropped"] = dropped
    report["train_test_overlap"] = int(splits["train"]["text"].isin(splits["test"]["text"]).sum())
    return report


if __name__ == "__main__":
    run(main)
