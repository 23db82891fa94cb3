"""Stage evaluate: models/trained + the test split -> metrics/transformer/ (test.json with
accuracy, loss, F1, their bootstrap bounds and calibration; report.txt, per_class.csv,
predictions.csv, mistakes.csv, calibration.csv, confusion_matrix.png, reliability.png; see
textclf.evaluate.metrics for what a multi-label model gets instead)."""

from __future__ import annotations

import pandas as pd

from textclf.config.outputs import TRANSFORMER_DIR
from textclf.config.params import load_params
from textclf.data.tables import PREPARED_DIR, read_schema
from textclf.data.tokenized import TokenRows, read_tokenized
from textclf.evaluate.metrics import write_test_results
from textclf.stages import run
from textclf.train.model import (
    TRAINED_DIR,
    decision_threshold,
    document_probabilities,
    is_multi_label,
    load_classifier,
    torch_logits,
)


def main() -> None:
    params = load_params()
    model, tokenizer = load_classifier(TRAINED_DIR)
    inputs = read_tokenized("test", ["input_ids", "document"])
    test = pd.read_parquet(PREPARED_DIR / "test.parquet")
    evaluate = params.evaluate
    # long texts cut into chunks have several inputs: their logits are averaged per text
    probabilities = document_probabilities(
        torch_logits(model, evaluate.precision),
        tokenizer,
        TokenRows(inputs.column("input_ids")),
        inputs.column("document").to_numpy(),
        len(test),
        is_multi_label(model.config),
        evaluate.batch_size,
    )
    schema = read_schema()
    write_test_results(
        TRANSFORMER_DIR,
        test["text"],
        test["label"].tolist(),
        probabilities,
        schema["classes"],
        evaluate.mistakes_per_class,
        multi_label=schema.get("multi_label", False),
        threshold=decision_threshold(model.config),
        separator=schema.get("label_separator", "|"),
    )


if __name__ == "__main__":
    run(main)
