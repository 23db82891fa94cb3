"""Raw files -> (text, label) examples -> prepared splits, in bounded memory: prepare reads a
file chunk by chunk (textclf.data.formats.read_chunks), checks and converts each chunk and appends
it to a scratch Parquet file, keeping only the labels (a few bytes a row); the split and the
caps are masks over those labels (textclf.data.splits), and the selected rows are copied to the
split files batch by batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from textclf.config.data_params import DataParams, PrepareParams
from textclf.data.labels import check_known, label_counts, label_ids, label_matrix, label_sets
from textclf.data.splits import cap_mask, validation_mask
from textclf.data.table import Table
from textclf.data.tables import batches_with_rows
from textclf.data.text import to_examples


@dataclass(frozen=True)
class Examples:
    """One raw file's usable rows, in file order, in a Parquet file (`text`, `label`,
    `position`)."""

    path: Path
    labels: np.ndarray  # a class id per row, or rows x classes 0/1 (multi-label)
    n_classes: int
    empty_text: int  # rows dropped because their text is empty

    @property
    def rows(self) -> int:
        return len(self.labels)

    @property
    def multi_label(self) -> bool:
        return self.labels.ndim == 2

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Rows per class (multi-label: rows carrying each label), of the rows in `mask`."""
        labels = self.labels if mask is None else self.labels[mask]
        if self.multi_label:
            return labels.sum(axis=0, dtype=np.int64)
        return label_counts(labels, self.n_classes)


def example_schema(multi_label: bool) -> pa.Schema:
    label = pa.list_(pa.int64()) if multi_label else pa.int64()
    # position: the row's line in its raw file (Parquet: its row), so that a report about a
    # row (the quality stage's label issues) can send the user to the source to fix it
    return pa.schema([("text", pa.large_string()), ("label", label), ("position", pa.int64())])


def write_examples(
    chunks: Iterable[Table],
    path: Path,
    data: DataParams,
    classes: list[str],
    known: set[int] | None = None,
) -> Examples:
    """Check and convert each chunk, appending its non-empty rows to `path`. `known`: the
    train split's class ids, which every label of this file must be one of."""
    schema = example_schema(data.multi_label)
    labels, empty = [], 0
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        for table in chunks:
            ids = labels_of(table, data, classes)
            if known is not None:
                check_known(table, ids, known, classes)
            frame = to_examples(table, data.text_columns, ids, data.clean_backslashes)
            frame["position"] = np.asarray(table.positions, dtype=np.int64)
            keep = (frame["text"].str.strip() != "").to_numpy()
            empty += int((~keep).sum())
            frame = frame[keep]
            writer.write_table(pa.Table.from_pandas(frame, schema, preserve_index=False))
            if data.multi_label:
                labels.append(label_matrix(frame["label"].tolist(), len(classes)).astype(np.uint8))
            else:
                labels.append(frame["label"].to_numpy(dtype=np.int32))
    shape = (0, len(classes)) if data.multi_label else (0,)
    stacked = np.concatenate(labels) if labels else np.zeros(shape, dtype=np.int32)
    return Examples(path, stacked, len(classes), empty)


def labels_of(table: Table, data: DataParams, classes: list[str]) -> list:
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


def write_selected(
    examples: Examples,
    outputs: dict[Path, np.ndarray],
    overlap: tuple[Path, pa.Array] | None = None,
) -> int:
    """Write the rows of `examples` that each mask selects to its Parquet file, in file order.
    `overlap`: an output and texts; returns how many of that output's rows have one of them."""
    schema = example_schema(examples.multi_label)
    writers = {path: pq.ParquetWriter(path, schema, compression="zstd") for path in outputs}
    overlapping = 0
    try:
        for batch, rows in batches_with_rows(examples.path):
            for path, mask in outputs.items():
                selected = pa.Table.from_batches([batch]).filter(pa.array(mask[rows]))
                writers[path].write_table(selected)
                if overlap is not None and path == overlap[0]:
                    found = pc.is_in(selected.column("text"), value_set=overlap[1])
                    overlapping += pc.sum(found).as_py() or 0
    finally:
        for writer in writers.values():
            writer.close()
    return overlapping


def write_splits(
    examples: dict[str, Examples], prepare: PrepareParams, classes: list[str], output: Path
) -> tuple[dict, np.ndarray]:
    """Write train, validation and test to `output`; return the data report (rows per split
    and class, what was dropped, train/test overlap) and the train split's rows per class."""
    masks = split_masks(examples, prepare, classes)
    write_selected(examples["test"], {output / "test.parquet": masks["test"][1]})
    test_texts = pq.read_table(output / "test.parquet", columns=["text"]).column("text")
    train_and_test = (output / "train.parquet", test_texts.combine_chunks())
    overlap = 0
    for source in ("train", "validation"):
        outputs = {
            output / f"{split}.parquet": mask
            for split, (origin, mask) in masks.items()
            if origin == source
        }
        if outputs:
            overlap += write_selected(examples[source], outputs, train_and_test)
    counts = {split: examples[origin].counts(mask) for split, (origin, mask) in masks.items()}
    rows = {split: int(mask.sum()) for split, (_, mask) in masks.items()}
    report = {
        "rows": rows,
        "rows_per_class": {
            split: {classes[label]: int(count) for label, count in enumerate(found) if count}
            for split, found in counts.items()
        },
        "dropped": {f"{split}_empty_text": found.empty_text for split, found in examples.items()},
        "train_test_overlap": overlap,
    }
    return report, counts["train"]


def split_masks(
    examples: dict[str, Examples], prepare: PrepareParams, classes: list[str]
) -> dict[str, tuple]:
    """Each split's source file and which of its rows the split takes: the held-out share of
    the train file unless a validation file is given, then the row caps."""
    seed, train_file = prepare.seed, examples["train"]
    if "validation" in examples:
        train = np.ones(train_file.rows, dtype=bool)
        validation = ("validation", np.ones(examples["validation"].rows, dtype=bool))
    else:
        labels = None if train_file.multi_label else train_file.labels
        held_out = validation_mask(labels, train_file.rows, prepare.validation_size, seed, classes)
        train, validation = ~held_out, ("train", held_out)
    test = np.ones(examples["test"].rows, dtype=bool)
    return {
        "train": ("train", cap_mask(train, prepare.max_train_rows, seed)),
        "validation": (validation[0], cap_mask(validation[1], prepare.max_validation_rows, seed)),
        "test": ("test", cap_mask(test, prepare.max_test_rows, seed)),
    }
