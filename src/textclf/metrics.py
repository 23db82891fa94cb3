"""Classification metrics with the same keys for every model (transformer, baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

# Metrics files, as declared in dvc.yaml.
METRICS_DIR = Path("metrics")
DATA_REPORT = METRICS_DIR / "data.json"
TRAIN_METRICS = METRICS_DIR / "train.json"
TEST_METRICS = METRICS_DIR / "test.json"
TEST_REPORT = METRICS_DIR / "test_report.txt"
PREDICTIONS = METRICS_DIR / "predictions.csv"


def classification_metrics(
    labels: Sequence[int], probabilities: np.ndarray, classes: Sequence[str]
) -> dict:
    """accuracy, loss (cross-entropy), macro and weighted F1, and per-class
    precision/recall/F1/support keyed by class name."""
    class_ids = list(range(len(classes)))
    predicted = probabilities.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=class_ids, zero_division=0
    )
    per_class = {
        name: {
            "precision": _round(precision[i]),
            "recall": _round(recall[i]),
            "f1": _round(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(classes)
    }
    return {
        "accuracy": _round(accuracy_score(labels, predicted)),
        "loss": _round(log_loss(labels, probabilities, labels=class_ids)),
        "f1_macro": _round(f1_score(labels, predicted, labels=class_ids, average="macro")),
        "f1_weighted": _round(f1_score(labels, predicted, labels=class_ids, average="weighted")),
        "per_class": per_class,
    }


def report_text(labels: Sequence[int], predicted: Sequence[int], classes: Sequence[str]) -> str:
    """The notebook's classification report, for people rather than `dvc metrics`."""
    return classification_report(
        labels,
        predicted,
        labels=list(range(len(classes))),
        target_names=list(classes),
        digits=4,
        zero_division=0,
    )


def _round(value: float) -> float:
    return round(float(value), 6)
