"""Stage tokenize: data/prepared/*.parquet -> data/tokenized/*.parquet plus the tokenizer.

Each split keeps `label` (multi-label: one 0/1 value per class) and gains the tokenizer's
columns, `document` (the prepared row an input comes from: several per row with
`tokenize.truncation: chunks`) and `length` (for length-grouped batches); validation rows are
sorted by length, test rows keep their order. The tokenizer is saved beside them with
`model_max_length` set to the length used, and truncation.json says how long texts were cut, so
the train stage ships both with the checkpoint.
"""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pyarrow.compute as pc

from textclf.class_weights import label_matrix
from textclf.data import (
    PREPARED_DIR,
    SPLITS,
    TOKENIZED_DIR,
    TRUNCATION_FILE,
    load_dataset,
    read_schema,
    write_parquet,
)
from textclf.files import atomic_path, write_json
from textclf.model import load_tokenizer, model_max_length
from textclf.params import ParamsError, load_params
from textclf.stages import run
from textclf.truncation import encode_texts

TRUNCATION_KEYS = ("truncation", "chunk_overlap")  # what predict needs to cut texts alike


def main() -> None:
    params = load_params()
    tokenizer = load_tokenizer(params.model.name)
    limit = model_max_length(params.model.name, tokenizer)
    max_length = params.tokenize.max_length or limit
    if max_length > limit:
        raise ParamsError(
            f"tokenize.max_length must be <= {limit} for this model, got {max_length}"
        )
    tokenizer.model_max_length = max_length
    schema = read_schema()
    truncation = params.tokenize

    def tokenize(batch: dict, rows: list[int]) -> dict:
        encoded = encode_texts(
            tokenizer, batch["text"], truncation.truncation, truncation.chunk_overlap
        )
        labels = [batch["label"][i] for i in encoded["document"]]
        if schema.get("multi_label"):
            labels = label_matrix(labels, len(schema["classes"])).tolist()
        encoded["label"] = labels
        encoded["document"] = [rows[i] for i in encoded["document"]]
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    with atomic_path(TOKENIZED_DIR, directory=True) as output:
        for split in SPLITS:
            dataset = load_dataset(PREPARED_DIR / f"{split}.parquet")
            tokenized = dataset.map(
                tokenize,
                batched=True,
                with_indices=True,
                remove_columns=dataset.column_names,  # chunks: more rows out than in
                desc=f"tokenize {split}",
            )
            table = tokenized.data.table
            if schema.get("multi_label"):  # BCE targets: floats (map keeps the ids' int type)
                column = table.schema.get_field_index("label")
                targets = table.column("label").cast(pa.list_(pa.float32()))
                table = table.set_column(column, "label", targets)
            if split == "validation":  # Trainer evaluates in order: sorted, batches pad little
                table = table.take(pc.sort_indices(table, [("length", "ascending")]))
            write_parquet(table, output / f"{split}.parquet")
        tokenizer.save_pretrained(output / "tokenizer")
        settings = dataclasses.asdict(truncation)
        write_json(output / TRUNCATION_FILE.name, {k: settings[k] for k in TRUNCATION_KEYS})


if __name__ == "__main__":
    run(main)
