"""The rows the quality stage checks: all of a split up to `quality.max_rows`, above it a
seeded random sample of that many, read batch by batch so that memory holds only the sample
(the TF-IDF folds, the duplicate search and the text statistics then cost what the sample
costs, not what a 12-million-row corpus would)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

READ_BATCH_ROWS = 16_384


@dataclass(frozen=True)
class Checked:
    frame: pd.DataFrame  # the rows checked, in file order
    rows: np.ndarray | None  # their row numbers in the split; None: every row
    total: int  # the split's rows

    def of(self, values: np.ndarray) -> np.ndarray:
        """The entries of a per-row array of the whole split that belong to the checked rows."""
        return values if self.rows is None else values[self.rows]


def checked_rows(path: Path, max_rows: int | None, seed: int) -> Checked:
    parquet = pq.ParquetFile(path)
    total = parquet.metadata.num_rows
    if max_rows is None or total <= max_rows:
        return Checked(pd.read_parquet(path), None, total)
    chosen = np.sort(np.random.default_rng(seed).choice(total, size=max_rows, replace=False))
    pieces, start = [], 0
    for batch in parquet.iter_batches(batch_size=READ_BATCH_ROWS):
        end = start + batch.num_rows
        inside = chosen[np.searchsorted(chosen, start) : np.searchsorted(chosen, end)] - start
        if len(inside):
            pieces.append(pa.Table.from_batches([batch]).take(pa.array(inside)))
        start = end
    return Checked(pa.concat_tables(pieces).to_pandas(), chosen, total)
