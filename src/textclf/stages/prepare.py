"""Stage prepare: raw files (data/raw/, any supported format) -> data/prepared/
{train,validation,test}.parquet (text, label id) and schema.json (class names, text columns).

The text is the `data.text_columns` joined with one space; labels are mapped to class ids
(textclf.labels). The validation split is `data.validation_url` if given, else a stratified
share of the train file: the rows scikit-learn's `train_test_split` picks, as in the notebook
(textclf.splits). Rows with empty text are dropped and counted; duplicates are kept, as in the
notebook. metrics/data.json reports rows per split and class, and what was dropped.

Files are streamed in chunks (textclf.examples): memory stays flat whatever their size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from textclf.class_weights import class_weights
from textclf.data import PREPARED_DIR, RAW_DIR, SCHEMA_FILE
from textclf.examples import Examples, write_examples, write_selected
from textclf.files import atomic_path, redact, write_json
from textclf.formats import Table, read_chunks, stored_name, with_columns
from textclf.labels import find_classes
from textclf.outputs import DATA_REPORT
from textclf.params import DataParams, Params, PrepareParams, load_params
from textclf.splits import cap_mask, validation_mask
from textclf.stages import run


def main() -> None:
    params = load_params()
    data = params.data
    sources = {"train": data.train_url, "test": data.test_url}
    if data.validation_url:
        sources["validation"] = data.validation_url
    columns = [*data.text_columns, data.label_column]
    separator = data.label_separator if data.multi_label else None
    with atomic_path(PREPARED_DIR, directory=True) as output:
        classes = data.classes or find_classes(
            with_columns(read_split("train", sources["train"], data), columns),
            data.label_column,
            separator,
        )
        with tempfile.TemporaryDirectory(dir=output) as scratch:
            examples: dict[str, Examples] = {}
            known = None  # the train split's class ids, once train is read (it is first)
            for split, source in sources.items():
                chunks = with_columns(read_split(split, source, data), columns)
                path = Path(scratch) / f"{split}.parquet"
                examples[split] = write_examples(chunks, path, data, classes, known)
                if split == "train":
                    known = set(np.flatnonzero(examples["train"].counts()).tolist())
            report = write_splits(examples, params, classes, output)
        write_json(output / SCHEMA_FILE.name, schema_of(data, classes))
    write_json(DATA_REPORT, report)


def write_splits(
    examples: dict[str, Examples], params: Params, classes: list[str], output: Path
) -> dict:
    """Write train, validation and test to `output`; return the data report: rows per split
    and class, what was dropped, train/test overlap and the class weights of the train rows."""
    masks = split_masks(examples, params.prepare)
    write_selected(examples["test"], {output / "test.parquet": masks["test"][1]})
    test_texts = pq.read_table(output / "test.parquet", columns=["text"]).column("text")
    overlap = 0
    for source in ("train", "validation"):
        outputs = {
            output / f"{split}.parquet": mask
            for split, (origin, mask) in masks.items()
            if origin == source
        }
        if outputs:
            found = write_selected(examples[source], outputs, test_texts.combine_chunks())
            overlap += found.get(output / "train.parquet", 0)
    counts = {split: examples[origin].counts(mask) for split, (origin, mask) in masks.items()}
    rows = {split: int(mask.sum()) for split, (_, mask) in masks.items()}
    multi_label = examples["train"].multi_label
    weights = class_weights(params.train.class_weights, counts["train"], rows["train"], multi_label)
    return {
        "rows": rows,
        "rows_per_class": {
            split: {classes[label]: int(count) for label, count in enumerate(found) if count}
            for split, found in counts.items()
        },
        "dropped": {f"{split}_empty_text": found.empty_text for split, found in examples.items()},
        "train_test_overlap": overlap,
        "class_weights": dict(zip(classes, weights.tolist(), strict=True)),  # as train applies
    }


def split_masks(examples: dict[str, Examples], prepare: PrepareParams) -> dict[str, tuple]:
    """Each split's source file and which of its rows the split takes: the held-out share of
    the train file unless a validation file is given, then the row caps."""
    seed, train_file = prepare.seed, examples["train"]
    if "validation" in examples:
        train = np.ones(train_file.rows, dtype=bool)
        validation = ("validation", np.ones(examples["validation"].rows, dtype=bool))
    else:
        labels = None if train_file.multi_label else train_file.labels
        held_out = validation_mask(labels, train_file.rows, prepare.validation_size, seed)
        train, validation = ~held_out, ("train", held_out)
    test = np.ones(examples["test"].rows, dtype=bool)
    return {
        "train": ("train", cap_mask(train, prepare.max_train_rows, seed)),
        "validation": (validation[0], cap_mask(validation[1], prepare.max_validation_rows, seed)),
        "test": ("test", cap_mask(test, prepare.max_test_rows, seed)),
    }


def schema_of(data: DataParams, classes: list[str]) -> dict:
    return {
        "classes": classes,
        "text_columns": data.text_columns,
        "clean_backslashes": data.clean_backslashes,
        "label_column": data.label_column,
        "columns": None if data.header else data.columns,
        "multi_label": data.multi_label,
        "label_separator": data.label_separator,
    }


def read_split(split: str, source: str, data: DataParams) -> Iterator[Table]:
    path = RAW_DIR / stored_name(split, source, data.format)
    return read_chunks(path, redact(source), data.format, data.header, data.columns)


if __name__ == "__main__":
    run(main)
