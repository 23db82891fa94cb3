"""Stage prepare: raw files (data/raw/, any supported format) -> data/prepared/
{train,validation,test}.parquet (text, label id, position: the line or Parquet row in its raw
file) and schema.json (class names, text columns).

The text is the `data.text_columns` joined with one space; labels are mapped to class ids
(textclf.data.labels). The validation split is `data.validation_url` if given, else a stratified
share of the train file: the rows scikit-learn's `train_test_split` picks, as in the notebook
(textclf.data.splits). Rows with empty text are dropped and counted; duplicates are kept, as in the
notebook. metrics/data.json reports rows per split and class, and what was dropped.

Files are streamed in chunks (textclf.data.examples): memory stays flat whatever their size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textclf.config.class_weights_params import ClassWeightsChoice
from textclf.config.data_params import DataParams, PrepareParams
from textclf.config.files import atomic_path, redact, write_json
from textclf.config.paths import DATA_REPORT, PREPARED_DIR, RAW_DIR, SCHEMA_FILE
from textclf.config.sections import load_sections
from textclf.data.class_weights import class_weights
from textclf.data.examples import Examples, write_examples, write_splits
from textclf.data.formats import read_chunks, stored_name, with_columns
from textclf.data.labels import find_classes
from textclf.data.schema import Schema, write_schema
from textclf.data.table import Table
from textclf.stages import run


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    data: DataParams
    prepare: PrepareParams
    train: ClassWeightsChoice


def main() -> None:
    params = load_sections(Sections)
    data = params.data
    sources = {"train": data.train_url, "test": data.test_url}
    if data.validation_url:
        sources["validation"] = data.validation_url
    columns, required = [*data.text_columns, data.label_column], [data.label_column]
    separator = data.label_separator if data.multi_label else None
    with atomic_path(PREPARED_DIR, directory=True) as output:
        classes = data.classes or find_classes(
            with_columns(read_split("train", sources["train"], data), columns, required),
            data.label_column,
            separator,
        )
        with tempfile.TemporaryDirectory(dir=output) as scratch:
            examples: dict[str, Examples] = {}
            known = None  # the train split's class ids, once train is read (it is first)
            for split, source in sources.items():
                chunks = with_columns(read_split(split, source, data), columns, required)
                path = Path(scratch) / f"{split}.parquet"
                examples[split] = write_examples(chunks, path, data, classes, known)
                if split == "train":
                    known = set(np.flatnonzero(examples["train"].counts()).tolist())
            report, train_counts = write_splits(examples, params.prepare, classes, output)
        write_schema(output / SCHEMA_FILE.name, Schema.of(data, classes))
    weights = class_weights(
        params.train.class_weights, train_counts, report["rows"]["train"], data.multi_label
    )
    report["class_weights"] = dict(zip(classes, weights.tolist(), strict=True))  # as train applies
    write_json(DATA_REPORT, report)


def read_split(split: str, source: str, data: DataParams) -> Iterator[Table]:
    path = RAW_DIR / stored_name(split, source, data.format)
    return read_chunks(path, redact(source), data.format, data.header, data.columns)


if __name__ == "__main__":
    run(main)
