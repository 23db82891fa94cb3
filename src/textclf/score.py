"""Score a whole archive with a trained model folder, on this machine or a Ray cluster.

    textclf score --model models/student --input archive/ --output scored/
    textclf score --model models/model --input 'archive/2026-*.parquet' --output scored/
    textclf score --address ray://head:10001 ...      (or RAY_ADDRESS: the same job on a cluster)

The input is a file, a folder or a glob of CSV, TSV, JSON Lines or Parquet shards shaped like what
`textclf predict` reads. The output is a folder of Parquet shards, one per input shard (a large
Parquet file in parts along its row groups), with the input's columns (or the --keep ones),
`predicted` and one `p_<class>` column per class, as `predict` computes them, and a
`_manifest.json`. Ray Data runs a pool of actors that each load the model once. A rerun after a
crash scores only the shards that have no output yet; each shard is written whole or not at all.
See docs/scoring.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from textclf.config.arguments import OneLineParser, positive_int
from textclf.config.checks import PRECISIONS
from textclf.config.errors import UserError
from textclf.scale.job import ScoreOptions, Summary, score
from textclf.ship.runtime import RUNTIMES


def main(argv: Sequence[str] | None = None, prog: str = "textclf score") -> None:
    parser = OneLineParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model", required=True, help="a model folder (teacher or student)")
    parser.add_argument("--input", required=True, help="a data file, a folder of them, or a glob")
    parser.add_argument("--output", required=True, help="the folder of scored Parquet shards")
    parser.add_argument(
        "--keep", help="the input columns to keep, comma-separated (default: all of them)"
    )
    parser.add_argument(
        "--actors",
        type=positive_int,
        help="model copies working at once (default: one per CPU, or per GPU for a transformer "
        "on a cluster with GPUs); each holds one model and one chunk of rows in memory",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=64, help="texts per forward pass"
    )
    parser.add_argument(
        "--shard-rows",
        type=positive_int,
        default=1_000_000,
        help="a Parquet file of more rows is scored in parts of about this many rows",
    )
    parser.add_argument(
        "--address", help="a Ray cluster (default: RAY_ADDRESS, else Ray on this machine)"
    )
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto", help="as for predict")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="as for predict")
    args = parser.parse_args(argv)
    keep = [name.strip() for name in args.keep.split(",") if name.strip()] if args.keep else None
    options = ScoreOptions(
        args.model,
        args.input,
        args.output,
        keep,
        args.actors,
        args.batch_size,
        args.shard_rows,
        args.address,
        args.runtime,
        args.precision,
    )
    try:
        summary = score(options)
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
    report(summary, args.output)


def report(summary: Summary, output: str) -> None:
    """The job's result, last, where a person looks."""
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    nodes = f" on {len(summary.nodes)} node{'s' * (len(summary.nodes) != 1)}"
    print(
        f"scored {summary.rows:,} rows in {summary.shards - summary.skipped} shards"
        f"{nodes if summary.nodes else ''} in {summary.seconds:.1f} s ({rate:,.0f} texts/s)"
    )
    total = sum(summary.class_counts.values()) or 1
    counts = ", ".join(
        f"{name} {count:,} ({count / total:.1%})" for name, count in summary.class_counts.items()
    )
    print(f"{output}: {summary.total_rows:,} rows in {summary.shards} shards (_manifest.json)")
    print(f"predicted, over all {summary.total_rows:,} rows: {counts}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
