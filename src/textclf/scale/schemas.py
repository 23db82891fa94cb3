"""The columns of a `score` run's shards, checked before any is scored: each shard of a
fixed-column format (CSV, TSV, Parquet) must have the text columns and the same columns as the
others, so that the output folder reads as one table. JSON Lines objects name their own keys, row
by row: only their text columns are checked (on the first row)."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.formats import detect_format
from textclf.data.inputs import input_chunks, input_layout, input_texts
from textclf.data.table import NoRows, Table
from textclf.scale import remote
from textclf.scale.remote import is_parquet, is_remote, parquet_footer
from textclf.scale.shards import Shard, ShardError


def first_columns(source: str, settings: CheckpointSettings) -> list[str] | None:
    """The columns of `source` (None for a file with no rows), its first row's text checked."""
    if is_remote(source) and not is_parquet(source):
        with remote.local_copy(source, head_only=True) as head:
            return first_columns(str(head), settings)
    if is_parquet(source):
        schema = parquet_footer(source, pq.read_schema)
        names = list(schema.names)
        input_texts(Table(pd.DataFrame(columns=names), [], source, parquet=True), settings)
        return names
    try:
        layout = input_layout(source, settings)
        first = next(input_chunks(source, layout, chunk_rows=1))
    except NoRows:
        return None
    input_texts(first, settings)  # the text columns are there
    return [str(column) for column in first.frame.columns]


def input_columns(shards: list[Shard], settings: CheckpointSettings) -> list[str]:
    """The columns the shards share (those of the first with rows); ShardError naming the first
    CSV, TSV or Parquet shard whose columns differ."""
    reference: tuple[str, list[str]] | None = None
    for source in dict.fromkeys(shard.source for shard in shards):
        columns = first_columns(source, settings)
        if columns is None:
            continue
        if reference is None:
            reference = (source, columns)
        elif detect_format(source, settable=False) != "jsonl" and set(columns) != set(reference[1]):
            raise ShardError(
                f"{source}: its columns ({', '.join(columns)}) differ from {reference[0]}'s "
                f"({', '.join(reference[1])}): score shards of one schema at a time"
            )
    return reference[1] if reference else []
