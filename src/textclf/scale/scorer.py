"""Scoring one shard: its rows read chunk by chunk, classified as `predict` classifies them, and
written as one Parquet file under a temporary name that is renamed to the shard's output name
only when every row is in it. Memory holds one chunk, whatever the shard's size.

The output keeps the input's columns (or the `keep` ones) and adds `predicted` and `p_<class>`.
CSV and TSV values stay text; a Parquet file's columns keep their types; JSON Lines values
other than text are kept as their JSON text, so every chunk of a shard has the same schema.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.config.files import atomic_path
from textclf.data.inputs import input_chunks, input_layout, input_texts
from textclf.data.table import DataError, NoRows, Table
from textclf.scale import remote
from textclf.scale.manifest import count_classes
from textclf.scale.remote import is_parquet, is_remote
from textclf.scale.shards import Shard
from textclf.ship.predictions import predictions
from textclf.ship.runtime import Classifier

CHUNK_ROWS = 10_000  # rows read, classified and written at a time


@dataclass
class ShardResult:
    output: str
    rows: int
    class_counts: Counter
    seconds: float


def input_tables(shard: Shard, classifier: Classifier) -> Iterator[tuple[Table, pa.Table]]:
    """The shard's rows, chunk by chunk: the table the text is built from, and the columns to
    write back (Arrow). A remote shard is read from a local copy."""
    if is_remote(shard.source):
        with remote.local_copy(shard.source) as local:
            yield from input_tables(dataclasses.replace(shard, source=str(local)), classifier)
        return
    if shard.row_groups is not None or is_parquet(shard.source):
        yield from parquet_tables(shard)
        return
    layout = input_layout(shard.source, classifier.settings)
    for table in input_chunks(shard.source, layout, CHUNK_ROWS):
        frame = table.frame.map(as_text)
        yield table, pa.Table.from_pandas(frame, schema=text_schema(frame), preserve_index=False)


def parquet_tables(shard: Shard) -> Iterator[tuple[Table, pa.Table]]:
    """A Parquet shard (or its row groups) in batches, its columns as typed in the file."""
    try:
        parquet = pq.ParquetFile(shard.source, pre_buffer=False)
        first, stop = shard.row_groups or (0, parquet.metadata.num_row_groups)
        start = 1 + sum(parquet.metadata.row_group(i).num_rows for i in range(first))
        for batch in parquet.iter_batches(CHUNK_ROWS, row_groups=range(first, stop)):
            frame = pd.DataFrame({c: batch.column(c).to_pylist() for c in batch.schema.names})
            rows = list(range(start, start + batch.num_rows))
            start += batch.num_rows
            table = Table(frame.astype(object), rows, shard.source, parquet=True)
            yield table, pa.Table.from_batches([batch])
    except (pa.ArrowException, OSError) as error:
        reason = str(error).strip().splitlines()[0]
        raise DataError(f"{shard.source}: not a readable Parquet file ({reason})") from None


def as_text(value: object) -> str | None:
    """A CSV, TSV or JSON Lines cell as text: None stays None, JSON values become JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def text_schema(frame: pd.DataFrame) -> pa.Schema:
    return pa.schema([(str(column), pa.string()) for column in frame.columns])


def scored(
    table: Table,
    columns: pa.Table,
    classifier: Classifier,
    batch_size: int,
    precision: str,
    keep: list[str] | None,
) -> pa.Table:
    """The chunk's kept columns with `predicted` and `p_<class>` after them (an input column of
    one of those names is replaced, as `predict` replaces it)."""
    texts = input_texts(table, classifier.settings)
    answers = predictions(classifier, texts, batch_size, precision)
    if keep is not None:
        missing = [name for name in keep if name not in columns.column_names]
        if missing:
            raise DataError(
                f"{table.name}: no column {missing[0]!r} to keep (it has: "
                f"{', '.join(columns.column_names)})"
            )
        columns = columns.select(keep)
    columns = columns.drop_columns([c for c in answers.columns if c in columns.column_names])
    for name in answers.columns:
        columns = columns.append_column(name, pa.array(answers[name].tolist(), answer_type(name)))
    return columns


def answer_type(column: str) -> pa.DataType:
    return pa.string() if column == "predicted" else pa.float64()


def score_shard(
    shard: Shard,
    output: Path,
    classifier: Classifier,
    batch_size: int,
    precision: str,
    keep: list[str] | None,
    empty_schema: list[str],
) -> ShardResult:
    """Score `shard` into `output / shard.output`, whole or not at all. An empty shard gives an
    empty output shard with `empty_schema`'s input columns (typed null, which any type reads)."""
    started = time.perf_counter()
    target = output / shard.output
    counts: Counter = Counter()
    rows = 0
    multi_label, separator = classifier.multi_label, classifier.settings.label_separator
    with atomic_path(target) as temporary:
        writer: pq.ParquetWriter | None = None
        try:
            for table, columns in shard_tables(shard, classifier):
                chunk = scored(table, columns, classifier, batch_size, precision, keep)
                if writer is None:
                    writer = pq.ParquetWriter(temporary, chunk.schema, compression="zstd")
                elif chunk.schema != writer.schema:
                    chunk = conform(chunk, writer.schema, table)
                writer.write_table(chunk)
                rows += chunk.num_rows
                counts += count_classes(chunk["predicted"].to_pylist(), separator, multi_label)
            if writer is None:
                writer = pq.ParquetWriter(temporary, empty_table_schema(empty_schema, classifier))
        finally:
            if writer is not None:
                writer.close()
    return ShardResult(shard.output, rows, counts, time.perf_counter() - started)


def shard_tables(shard: Shard, classifier: Classifier) -> Iterator[tuple[Table, pa.Table]]:
    """input_tables, with an empty file (no rows at all) as no chunks."""
    try:
        yield from input_tables(shard, classifier)
    except NoRows:
        return


def conform(chunk: pa.Table, schema: pa.Schema, table: Table) -> pa.Table:
    """A later chunk in the first chunk's schema (a column all null in the first chunk of a
    Parquet file, or typed otherwise in a later row group), or DataError naming where."""
    try:
        return chunk.cast(schema)
    except (pa.ArrowException, ValueError):
        raise DataError(
            f"{table.where(0)}: the columns change type within the file ({chunk.schema.names})"
        ) from None


def empty_table_schema(columns: list[str], classifier: Classifier) -> pa.Schema:
    answers = ["predicted", *(f"p_{name}" for name in classifier.classes)]
    inputs = [(name, pa.null()) for name in columns if name not in answers]
    return pa.schema([*inputs, *((name, answer_type(name)) for name in answers)])
