"""Stage evaluate: models/trained + the test split -> metrics/transformer/ (test.json with
accuracy, loss, F1, their bootstrap bounds and calibration; report.txt, per_class.csv,
predictions.csv, mistakes.csv, calibration.csv, confusion_matrix.png, reliability.png)."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from textclf.data import PREPARED_DIR, TOKENIZED_DIR, read_schema
from textclf.metrics import write_test_results
from textclf.model import TRAINED_DIR, load_classifier, predict_proba
from textclf.outputs import TRANSFORMER_DIR
from textclf.params import load_params
from textclf.stages import run


def main() -> None:
    params = load_params()
    model, tokenizer = load_classifier(TRAINED_DIR)
    tokenized = pq.read_table(TOKENIZED_DIR / "test.parquet", columns=["input_ids", "label"])
    evaluate = params.evaluate
    input_ids = tokenized.column("input_ids").to_pylist()
    probabilities = predict_proba(
        model, tokenizer, input_ids, evaluate.batch_size, precision=evaluate.precision
    )
    texts = pd.read_parquet(PREPARED_DIR / "test.parquet", columns=["text"])["text"]
    labels = tokenized.column("label").to_numpy()
    classes = read_schema()["classes"]
    write_test_results(
        TRANSFORMER_DIR, texts, labels, probabilities, classes, evaluate.mistakes_per_class
    )


if __name__ == "__main__":
    run(main)
