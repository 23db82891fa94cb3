"""Stage tokenize: data/prepared/*.parquet -> data/tokenized/*.parquet plus the tokenizer.

Each split keeps `label` and gains the tokenizer's columns and `length` (for length-grouped
batches); validation rows are sorted by length, test rows keep their order. The tokenizer is
saved beside them with `model_max_length` set to the length used, so the train stage ships
exactly this tokenizer with the checkpoint.
"""

from __future__ import annotations

import pyarrow.compute as pc

from textclf.data import PREPARED_DIR, SPLITS, TOKENIZED_DIR, load_dataset, write_parquet
from textclf.files import atomic_path
from textclf.model import load_tokenizer, model_max_length
from textclf.params import ParamsError, load_params
from textclf.stages import run


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

    def tokenize(batch: dict) -> dict:
        encoded = tokenizer(batch["text"], truncation=True)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    with atomic_path(TOKENIZED_DIR, directory=True) as output:
        for split in SPLITS:
            dataset = load_dataset(PREPARED_DIR / f"{split}.parquet")
            tokenized = dataset.map(
                tokenize, batched=True, remove_columns=["text"], desc=f"tokenize {split}"
            )
            table = tokenized.data.table
            if split == "validation":  # Trainer evaluates in order: sorted, batches pad little
                table = table.take(pc.sort_indices(table, [("length", "ascending")]))
            write_parquet(table, output / f"{split}.parquet")
        tokenizer.save_pretrained(output / "tokenizer")


if __name__ == "__main__":
    run(main)
