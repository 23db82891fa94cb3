"""Classify text with a trained checkpoint.

    textclf predict "Stocks rally as oil prices fall"
    textclf predict --input news.jsonl --output labelled.csv
    textclf predict --runtime onnx "Stocks rally as oil prices fall"
    python -m textclf.predict ...        (the same)

File mode reads CSV, TSV, JSON Lines or Parquet shaped like the training data (the checkpoint
records which columns made the text, and a header-less file's columns), or any such file with
a `text` column, and writes it back with `predicted` and one `p_<class>` column per class, in
the format the output's name says (CSV on stdout), cells a spreadsheet would run as formulas
made inert in CSV and TSV. The output is written to a temporary file and renamed, so it may be
the input itself: it then keeps the input's format.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from textclf.config.arguments import OneLineParser, positive_int
from textclf.config.checks import PRECISIONS
from textclf.config.errors import UserError
from textclf.config.paths import MODEL_DIR
from textclf.config.spreadsheet import for_people
from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.formats import read_table
from textclf.data.inputs import input_layout, input_texts
from textclf.data.outputs import check_output, write_table
from textclf.ship.predictions import predictions
from textclf.ship.runtime import RUNTIMES, checkpoint_settings
from textclf.ship.runtime import load as load_runtime


def classify(
    texts: Sequence[str],
    model_dir: str = str(MODEL_DIR),
    batch_size: int = 64,
    precision: str = "auto",
    runtime: str = "auto",
) -> pd.DataFrame:
    """One row per text: `predicted` label name (multi-label: the labels at or above the
    threshold, joined by the training data's label separator) and `p_<class>` probabilities."""
    classifier = load_runtime(model_dir, runtime)
    return predictions(classifier, texts, batch_size, precision, progress=len(texts) > batch_size)


def read_input(path: str, settings: CheckpointSettings) -> tuple[pd.DataFrame, list[str]]:
    """The input file's rows and their texts, built from the columns the checkpoint was trained
    on (`settings`: its CheckpointSettings; see textclf.data.inputs)."""
    layout = input_layout(path, settings)
    table = read_table(Path(path), path, layout.data_format, layout.header, layout.columns)
    return table.frame, input_texts(table, settings)


def main(argv: Sequence[str] | None = None, prog: str = "textclf predict") -> None:
    parser = OneLineParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("texts", nargs="*", help="texts to classify")
    parser.add_argument("--model", default=str(MODEL_DIR), help="checkpoint directory")
    parser.add_argument(
        "--input", help="file to classify: CSV, TSV, JSON Lines or Parquet (optionally .gz)"
    )
    parser.add_argument(
        "--output",
        help="where to write the labelled rows, in the format its name says (.csv, .tsv, .jsonl, "
        ".parquet; the input's own format if it is the input); default: CSV on stdout",
    )
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="auto", help="PyTorch: auto is bf16 where native"
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="auto: ONNX Runtime where installed and the model folder has onnx/, else PyTorch",
    )
    args = parser.parse_args(argv)
    if bool(args.texts) == bool(args.input):
        parser.error("give either texts or --input CSV")
    try:
        if args.input:
            label_file(
                args.input, args.output, args.model, args.batch_size, args.precision, args.runtime
            )
            return
        result = classify(args.texts, args.model, args.batch_size, args.precision, args.runtime)
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
    for text, (_, row) in zip(args.texts, result.iterrows(), strict=True):
        scores = ", ".join(f"{name[2:]} {row[name]:.3f}" for name in result.columns[1:])
        print(f"{row['predicted']}\t{text}\t({scores})")


def label_file(
    source: str,
    output: str | None,
    model: str,
    batch_size: int,
    precision: str,
    runtime: str = "auto",
) -> None:
    """`source` with `predicted` and `p_<class>` columns, to `output` (atomically, in its
    format) or as CSV to stdout. A file labelled before gets its old columns of those names
    replaced, and says so."""
    if output:
        check_output(output, source, keeps_every_row=True)
    settings = checkpoint_settings(model)
    frame, texts = read_input(source, settings)
    answers = classify(texts, model, batch_size, precision, runtime)
    replaced = [column for column in answers.columns if column in frame.columns]
    if replaced:
        print(f"{source}: replacing its columns {', '.join(replaced)}", file=sys.stderr)
    labelled = pd.concat([frame.drop(columns=replaced), answers], axis=1)
    if not output:
        for_people(labelled).to_csv(sys.stdout, index=False)
        return
    write_table(labelled, output, source)


if __name__ == "__main__":
    main()
