"""Tokenizing prepared splits into Parquet shards with several processes, in bounded memory.

The prepared rows are read in batches of `BATCH_ROWS`; `processes` workers tokenize them and the
main process writes the results in input order, starting a new shard every `shard_rows` rows.
What is written depends only on the rows, the tokenizer and the truncation settings: never on
the number of processes (the batches are the same, and so is their order). At most two batches
per worker are in flight, so memory does not grow with the split.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from textclf.data.labels import label_matrix
from textclf.data.tables import parquet_batches
from textclf.data.truncation import encode_texts

BATCH_ROWS = 10_000  # prepared rows per task: the unit of work and of sorting validation rows

_worker: dict = {}  # each process's tokenizer and settings (set by `start_worker`)


def start_worker(tokenizer_dir: str, settings: dict, threads: bool) -> None:
    """Load the tokenizer once per process. `threads`: let the Rust tokenizer use every core
    (one process); several processes each use one."""
    if not threads:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _worker["tokenizer"] = AutoTokenizer.from_pretrained(tokenizer_dir)
    _worker["settings"] = settings


def encode_batch(
    texts: list[str], labels: list, first_row: int, sort_by_length: bool = False
) -> pa.Table:
    """One batch of prepared rows as model inputs: the tokenizer's columns, `label` (one
    0/1 float per class for multi-label), `document` (the prepared row of each input: several
    with chunks) and `length`; validation batches sorted by length (less padding)."""
    tokenizer, settings = _worker["tokenizer"], _worker["settings"]
    encoded = encode_texts(
        tokenizer, texts, settings["truncation"], settings["chunk_overlap"], ids_only=True
    )
    documents = np.asarray(encoded["document"], dtype=np.int64)
    input_ids = pa.array(encoded["input_ids"], type=pa.list_(pa.int32()))
    offsets = input_ids.offsets
    tokens = offsets[-1].as_py()
    columns = {"input_ids": input_ids}
    if "token_type_ids" in tokenizer.model_input_names:  # one text: all type 0
        columns["token_type_ids"] = pa.ListArray.from_arrays(
            offsets, pa.array(np.zeros(tokens, dtype=np.int8))
        )
    columns["attention_mask"] = pa.ListArray.from_arrays(  # unpadded: every token counts
        offsets, pa.array(np.ones(tokens, dtype=np.int8))
    )
    if settings["n_classes"]:  # multi-label: BCE targets
        matrix = label_matrix([labels[i] for i in documents], settings["n_classes"])
        columns["label"] = pa.FixedSizeListArray.from_arrays(
            pa.array(matrix.ravel()), settings["n_classes"]
        ).cast(pa.list_(pa.float32()))
    else:
        columns["label"] = pa.array(np.asarray(labels, dtype=np.int64)[documents])
    columns["document"] = pa.array(documents + first_row)
    columns["length"] = pc.list_value_length(input_ids)
    table = pa.table(columns)
    if sort_by_length:
        table = table.take(pc.sort_indices(table, [("length", "ascending")]))
    return table


def prepared_batches(path: Path) -> Iterator[tuple[list[str], list, int]]:
    """The texts and labels of a prepared split, `BATCH_ROWS` at a time, with the first row."""
    first_row = 0
    for batch in parquet_batches(path, ["text", "label"], BATCH_ROWS):
        yield batch.column("text").to_pylist(), batch.column("label").to_pylist(), first_row
        first_row += batch.num_rows


def tokenize_split(
    source: Path, target: Path, executor: Executor | None, shard_rows: int, workers: int
) -> int:
    """Tokenize the prepared split `source` into shards `target/<name>-00000.parquet`, ...
    (in this process if `executor` is None); return the number of inputs written."""
    target.mkdir(parents=True)
    sort_by_length = target.name == "validation"  # the Trainer evaluates in order
    batches = prepared_batches(source)
    pending: deque[tuple[int, Future | pa.Table]] = deque()
    rows = pq.ParquetFile(source).metadata.num_rows
    with (
        tqdm(total=rows, desc=f"tokenize {target.name}", unit="rows") as progress,
        ShardWriter(target, shard_rows) as writer,
    ):
        while True:
            while len(pending) < 2 * workers and (batch := next(batches, None)) is not None:
                job = (*batch, sort_by_length)
                if executor is None:
                    pending.append((len(batch[0]), encode_batch(*job)))
                else:
                    pending.append((len(batch[0]), executor.submit(encode_batch, *job)))
            if not pending:
                return writer.written
            count, result = pending.popleft()
            writer.write(result.result() if isinstance(result, Future) else result)
            progress.update(count)


class ShardWriter:
    """Parquet shards of `shard_rows` rows each (the last one shorter), named in order."""

    def __init__(self, folder: Path, shard_rows: int):
        self.folder, self.shard_rows = folder, shard_rows
        self.writer: pq.ParquetWriter | None = None
        self.in_shard = self.written = self.shards = 0

    def write(self, table: pa.Table) -> None:
        while table.num_rows:
            if self.writer is None or self.in_shard == self.shard_rows:
                self.close()
                path = self.folder / f"{self.folder.name}-{self.shards:05d}.parquet"
                self.writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                self.shards, self.in_shard = self.shards + 1, 0
            part = table.slice(0, self.shard_rows - self.in_shard)
            self.writer.write_table(part)
            self.in_shard += part.num_rows
            self.written += part.num_rows
            table = table.slice(part.num_rows)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def process_count(num_proc: int | None, rows: int) -> int:
    """`tokenize.num_proc`, or for null one process per core but at most one per batch:
    starting a process (seconds) costs more than tokenizing a small split."""
    if num_proc:
        return num_proc
    return max(1, min(os.cpu_count() or 1, math.ceil(rows / BATCH_ROWS)))


def worker_pool(processes: int, tokenizer_dir: Path, settings: dict) -> Executor | None:
    """`processes` tokenizer processes (started fresh, not forked: the Rust tokenizer's threads
    do not survive a fork), or None for one: this process tokenizes, on every core."""
    if processes == 1:
        start_worker(str(tokenizer_dir), settings, threads=True)
        return None
    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
        initargs=(str(tokenizer_dir), settings, False),
    )
