"""Stage evaluate: models/model + the test split -> metrics/test.json (accuracy, loss, F1,
per-class report), metrics/test_report.txt and per-row metrics/predictions.csv."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from textclf.data import PREPARED_DIR, TOKENIZED_DIR
from textclf.files import atomic_path, write_json, write_text
from textclf.metrics import (
    PREDICTIONS,
    TEST_METRICS,
    TEST_REPORT,
    classification_metrics,
    report_text,
)
from textclf.model import MODEL_DIR, load_classifier, predict_proba
from textclf.params import load_params
from textclf.stages import run


def main() -> None:
    params = load_params()
    classes = params.data.classes
    model, tokenizer = load_classifier(MODEL_DIR)
    tokenized = pq.read_table(TOKENIZED_DIR / "test.parquet", columns=["input_ids", "label"])
    input_ids = tokenized.column("input_ids").to_pylist()
    labels = tokenized.column("label").to_numpy()
    probabilities = predict_proba(model, tokenizer, input_ids, params.evaluate.batch_size)
    predicted = probabilities.argmax(axis=1)

    write_json(TEST_METRICS, classification_metrics(labels, probabilities, classes))
    write_text(TEST_REPORT, report_text(labels, predicted, classes))
    predictions = pd.read_parquet(PREPARED_DIR / "test.parquet")
    predictions["label"] = [classes[i] for i in labels]
    predictions["predicted"] = [classes[i] for i in predicted]
    for index, name in enumerate(classes):
        predictions[f"p_{name}"] = probabilities[:, index].round(6)
    with atomic_path(PREDICTIONS) as temporary:
        predictions.to_csv(temporary, index=False)


if __name__ == "__main__":
    run(main)
