"""Classify text with a trained checkpoint.

    python -m textclf.predict "Stocks rally as oil prices fall"
    python -m textclf.predict --input news.csv --output labelled.csv

CSV mode reads a CSV with a header and a `text` column (or `title` and `description`, joined as
in training), and writes it back with `predicted` and one `p_<class>` column per class.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from textclf.data import join_text
from textclf.model import MODEL_DIR, encode, load_classifier, predict_proba
from textclf.params import PRECISIONS


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


def texts_from_csv(frame: pd.DataFrame) -> list[str]:
    if "text" in frame:
        return frame["text"].fillna("").astype(str).tolist()
    if {"title", "description"} <= set(frame.columns):
        return join_text(frame["title"], frame["description"]).tolist()
    raise SystemExit("error: the input CSV needs a 'text' column, or 'title' and 'description'")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("texts", nargs="*", help="texts to classify")
    parser.add_argument("--model", default=str(MODEL_DIR), help="checkpoint directory")
    parser.add_argument("--input", help="CSV file to classify (with a header row)")
    parser.add_argument("--output", help="where to write the labelled CSV (default: stdout)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="auto", help="auto: bf16 where native"
    )
    args = parser.parse_args(argv)
    if bool(args.texts) == bool(args.input):
        parser.error("give either texts or --input CSV")
    try:
        if args.input:
            frame = pd.read_csv(args.input, dtype=str, keep_default_na=False)
            labelled = pd.concat(
                [
                    frame,
                    classify(texts_from_csv(frame), args.model, args.batch_size, args.precision),
                ],
                axis=1,
            )
            labelled.to_csv(args.output or sys.stdout, index=False)
            return
        result = classify(args.texts, args.model, args.batch_size, args.precision)
    except FileNotFoundError as error:
        raise SystemExit(f"error: {error}") from None
    for text, (_, row) in zip(args.texts, result.iterrows(), strict=True):
        scores = ", ".join(f"{name[2:]} {row[name]:.3f}" for name in result.columns[1:])
        print(f"{row['predicted']}\t{text}\t({scores})")


if __name__ == "__main__":
    main()
