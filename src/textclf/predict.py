"""Classify text with a trained checkpoint.

    python -m textclf.predict "Stocks rally as oil prices fall"
    python -m textclf.predict --input news.csv --output labelled.csv

CSV mode reads a UTF-8 CSV with a header and a `text` column (or `title` and `description`,
joined as in training), and writes it back with `predicted` and one `p_<class>` column per
class. The output is written to a temporary file and renamed, so it may be the input itself.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from textclf.data import join_text
from textclf.errors import UserError
from textclf.files import atomic_path
from textclf.model import MODEL_DIR, encode, load_classifier, predict_proba
from textclf.params import PRECISIONS


class InputError(UserError):
    """The input CSV or an output path cannot be used."""


def classify(
    texts: Sequence[str],
    model_dir: str = str(MODEL_DIR),
    batch_size: int = 64,
    precision: str = "auto",
) -> pd.DataFrame:
    """One row per text: `predicted` label name and `p_<class>` probabilities."""
    model, tokenizer = load_classifier(model_dir)
    classes = [model.config.id2label[i] for i in range(model.config.num_labels)]
    probabilities = predict_proba(
        model,
        tokenizer,
        encode(tokenizer, texts),
        batch_size,
        progress=len(texts) > batch_size,
        precision=precision,
    )
    result = pd.DataFrame({"predicted": [classes[i] for i in np.argmax(probabilities, axis=1)]})
    for index, name in enumerate(classes):
        result[f"p_{name}"] = probabilities[:, index].round(4)
    return result


def read_input(path: str) -> pd.DataFrame:
    """The input CSV as strings; InputError naming the file (and line) if it cannot be used."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: bytes that are not UTF-8 ({error.reason})") from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty file (expected a header row and rows)") from None
    except pd.errors.ParserError as error:
        reason = str(error).strip().splitlines()[0]
        raise InputError(f"{path}: malformed CSV ({reason})") from None
    if frame.empty:
        raise InputError(f"{path}: no rows below the header")
    return frame


def texts_from_csv(frame: pd.DataFrame, path: str = "the input CSV") -> list[str]:
    if "text" in frame:
        return frame["text"].fillna("").astype(str).tolist()
    if {"title", "description"} <= set(frame.columns):
        return join_text(frame["title"], frame["description"]).tolist()
    raise InputError(
        f"{path} needs a 'text' column, or 'title' and 'description' "
        f"(it has: {', '.join(map(str, frame.columns))})"
    )


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end in one `error:` line, like every other error here."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {message} (see --help)\n")


def positive_int(value: str) -> int:
    number = int(value) if value.strip().lstrip("+").isdecimal() and value.isascii() else 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return number


def main(argv: Sequence[str] | None = None) -> None:
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("texts", nargs="*", help="texts to classify")
    parser.add_argument("--model", default=str(MODEL_DIR), help="checkpoint directory")
    parser.add_argument("--input", help="CSV file to classify (with a header row)")
    parser.add_argument("--output", help="where to write the labelled CSV (default: stdout)")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="auto", help="auto: bf16 where native"
    )
    args = parser.parse_args(argv)
    if bool(args.texts) == bool(args.input):
        parser.error("give either texts or --input CSV")
    try:
        if args.input:
            label_csv(args.input, args.output, args.model, args.batch_size, args.precision)
            return
        result = classify(args.texts, args.model, args.batch_size, args.precision)
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
    for text, (_, row) in zip(args.texts, result.iterrows(), strict=True):
        scores = ", ".join(f"{name[2:]} {row[name]:.3f}" for name in result.columns[1:])
        print(f"{row['predicted']}\t{text}\t({scores})")


def label_csv(source: str, output: str | None, model: str, batch_size: int, precision: str):
    """`source` with `predicted` and `p_<class>` columns, to `output` (atomically) or stdout."""
    if output and not Path(output).parent.is_dir():
        raise InputError(f"{output}: the folder {Path(output).parent} does not exist")
    frame = read_input(source)
    predictions = classify(texts_from_csv(frame, source), model, batch_size, precision)
    labelled = pd.concat([frame, predictions], axis=1)
    if not output:
        labelled.to_csv(sys.stdout, index=False)
        return
    try:
        with atomic_path(output) as temporary:
            labelled.to_csv(temporary, index=False)
    except OSError as error:
        raise InputError(f"{output}: cannot write ({error.strerror or error})") from None


if __name__ == "__main__":
    main()
