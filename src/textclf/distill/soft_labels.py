"""The teacher labels the rows a student learns from: the prepared train rows (which keep
their true labels) and, streamed chunk by chunk, an optional pool of unlabelled texts. The
table is written to disk as it grows (Parquet), so a pool of any size costs one chunk of
memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from textclf.config.distill_params import DistillParams
from textclf.config.errors import ParamsError
from textclf.config.files import redact
from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.inputs import input_chunks, input_layout, input_texts
from textclf.data.labels import label_matrix
from textclf.data.table import DataError
from textclf.data.text import model_inputs
from textclf.evaluate.scoring import score_split, score_texts
from textclf.modeling.inference import is_multi_label, torch_logits

POOL_CHUNK_ROWS = 2_000


def soft_label_schema(n_classes: int) -> pa.Schema:
    vector = pa.list_(pa.float32(), n_classes)
    return pa.schema(
        [
            ("text", pa.string()),
            ("teacher", vector),  # the teacher's probabilities (temperature 1)
            ("truth", vector),  # one-hot or multi-hot; zeros for a pool's rows
            ("labelled", pa.bool_()),
        ]
    )


def _batch(texts: list[str], teacher: np.ndarray, truth: np.ndarray, labelled: bool) -> pa.Table:
    n_classes = teacher.shape[1]
    schema = soft_label_schema(n_classes)

    def vectors(values: np.ndarray) -> pa.Array:
        flat = pa.array(values.astype(np.float32).ravel(), pa.float32())
        return pa.FixedSizeListArray.from_arrays(flat, n_classes)

    return pa.Table.from_arrays(
        [
            pa.array(texts, pa.string()),
            vectors(teacher),
            vectors(truth),
            pa.array(np.full(len(texts), labelled)),
        ],
        schema=schema,
    )


def pool_texts(
    pool: str, settings: CheckpointSettings, max_rows: int | None
) -> Iterator[list[str]]:
    """The pool's texts, built from its columns as the teacher's training text was, in chunks
    (at most `max_rows` in all)."""
    seen = 0
    for table in input_chunks(pool, input_layout(pool, settings), POOL_CHUNK_ROWS):
        texts = input_texts(table, settings)
        if max_rows is not None:
            texts = texts[: max_rows - seen]
        seen += len(texts)
        if texts:
            yield model_inputs(texts, settings.clean_backslashes)
        if max_rows is not None and seen >= max_rows:
            return


def check_pool(distill: DistillParams, settings: CheckpointSettings) -> None:
    """The pool file readable, with the text columns: before anything is trained."""
    if not distill.pool:
        return
    if "://" in distill.pool:
        raise ParamsError(
            f"distill.pool: {redact(distill.pool)}: a URL; the pool is read from a local file "
            "(fetch it first, e.g. `dvc import-url URL pool.csv` keeps it versioned)"
        )
    try:
        next(pool_texts(distill.pool, settings, 1), None)
    except DataError as error:
        raise ParamsError(f"distill.pool: {error}") from None


def write_soft_labels(
    path: Path,
    teacher: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    settings: CheckpointSettings,
    n_classes: int,
    pool: str = "",
    max_pool_rows: int | None = None,
    precision: str = "auto",
    batch_size: int = 64,
    held_out: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """The teacher's probabilities for the train rows and the pool's as `path`; how many rows
    of each it holds. Pool rows whose text is in `held_out` (the test split's) are left out and
    counted: a student that learned a test text would be scored on it."""
    multi_label = is_multi_label(teacher.config)
    with pq.ParquetWriter(path, soft_label_schema(n_classes)) as writer:
        print("The teacher labels the train rows", flush=True)
        train, probabilities = score_split(teacher, tokenizer, "train", precision, batch_size)
        texts = model_inputs(train["text"].tolist(), settings.clean_backslashes)
        truth = label_matrix(train["label"].tolist(), n_classes)
        writer.write_table(_batch(texts, probabilities, truth, labelled=True))
        pooled = dropped = 0
        if pool:
            print(f"The teacher labels the pool {pool}", flush=True)
            logits = torch_logits(teacher, precision)
            for texts in pool_texts(pool, settings, max_pool_rows):
                chunk = [text for text in texts if text not in held_out]
                dropped += len(texts) - len(chunk)
                if not chunk:
                    continue
                probabilities = score_texts(
                    logits, tokenizer, settings, chunk, multi_label, batch_size
                )
                empty = np.zeros_like(probabilities)
                writer.write_table(_batch(chunk, probabilities, empty, labelled=False))
                pooled += len(chunk)
                print(f"  {pooled} pool rows labelled", flush=True)
        if dropped:
            print(
                f"distill.pool: {dropped} rows are test rows too: left out, so that the student "
                "is not scored on texts it learned from",
                flush=True,
            )
    return {"train_rows": len(train), "pool_rows": pooled, "pool_rows_in_test": dropped}
