"""Stage tokenize: data/prepared/*.parquet -> data/tokenized/<split>/<split>-NNNNN.parquet
shards plus the tokenizer.

Each split keeps `label` (multi-label: one 0/1 value per class) and gains the tokenizer's
columns, `document` (the prepared row an input comes from: several per row with
`tokenize.truncation: chunks`) and `length` (for length-grouped batches); validation rows are
sorted by length within each batch of 10,000, test rows keep their order. `tokenize.num_proc`
processes tokenize (textclf.data.tokenization); the shards hold `tokenize.shard_rows` rows and are
the same bytes whatever the number of processes. The tokenizer is saved beside them with
`model_max_length` set to the length used, and truncation.json says how long texts were cut, so
the train stage ships both with the checkpoint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pyarrow.parquet as pq

from textclf.config.errors import ParamsError
from textclf.config.files import atomic_path, write_json
from textclf.config.model_params import ModelParams, TokenizeParams
from textclf.config.paths import PREPARED_DIR, SPLITS, TOKENIZED_DIR, TRUNCATION_FILE
from textclf.config.sections import load_sections
from textclf.data.schema import read_schema
from textclf.data.tokenization import process_count, tokenize_split, worker_pool
from textclf.modeling.tokenizer import load_tokenizer, model_max_length
from textclf.stages import run

TRUNCATION_KEYS = ("truncation", "chunk_overlap")  # what predict needs to cut texts alike


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    model: ModelParams
    tokenize: TokenizeParams


def main() -> None:
    params = load_sections(Sections)
    tokenizer = load_tokenizer(params.model.name)
    limit = model_max_length(params.model.name, tokenizer)
    max_length = params.tokenize.max_length or limit
    if max_length > limit:
        raise ParamsError(
            f"tokenize.max_length must be <= {limit} for this model, got {max_length}"
        )
    # the model's special tokens ([CLS], [SEP]) and at least one token of text
    shortest = tokenizer.num_special_tokens_to_add(pair=False) + 1
    if max_length < shortest:
        raise ParamsError(
            f"tokenize.max_length must be >= {shortest} for this model (its special tokens "
            f"and one token of text), got {max_length}"
        )
    tokenizer.model_max_length = max_length
    schema = read_schema()
    settings = dataclasses.asdict(params.tokenize)
    sources = {split: PREPARED_DIR / f"{split}.parquet" for split in SPLITS}
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in sources.values())
    processes = process_count(params.tokenize.num_proc, rows)
    worker_settings = {
        **{key: settings[key] for key in TRUNCATION_KEYS},
        "n_classes": len(schema.classes) if schema.multi_label else 0,
    }
    with atomic_path(TOKENIZED_DIR, directory=True) as output:
        tokenizer.save_pretrained(output / "tokenizer")
        executor = worker_pool(processes, output / "tokenizer", worker_settings)
        try:
            for split, source in sources.items():
                tokenize_split(
                    source, output / split, executor, params.tokenize.shard_rows, processes
                )
        finally:
            if executor is not None:
                executor.shutdown(cancel_futures=True)
        write_json(output / TRUNCATION_FILE.name, {k: settings[k] for k in TRUNCATION_KEYS})


if __name__ == "__main__":
    run(main)
