"""Classification metrics with the same keys for every model (transformer, baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

from textclf.config.data_params import DataParams
from textclf.config.files import atomic_path, write_json, write_text
from textclf.config.spreadsheet import for_people
from textclf.evaluate.calibration import calibration_metrics, reliability_table
from textclf.evaluate.headline import HEADLINE_FILE, headline
from textclf.evaluate.mistakes import confident_mistakes, costly_confusions
from textclf.evaluate.multilabel import write_multilabel_results
from textclf.evaluate.plots import save_confusion_matrix, save_reliability_diagram
from textclf.evaluate.predictions import prediction_table
from textclf.evaluate.statistics import bootstrap_intervals


def write_test_results(
    folder: str | Path,
    texts: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str],
    mistakes_per_class: int = 5,
    multi_label: bool = False,
    threshold: float = 0.5,
    separator: str = DataParams.label_separator,
    notes: dict | None = None,
) -> dict:
    """Everything `dvc metrics`/`dvc plots` and people read about one model on the test split:
    test.json and its headline keys in headline.json, report.txt, per_class.csv,
    predictions.csv, mistakes.csv, calibration.csv, confusion_matrix.png and reliability.png
    (multi-label: see `write_multilabel_results`).
    `notes`: more keys for test.json, e.g. how many train rows the model saw."""
    if multi_label:
        mistakes = mistakes_per_class * len(classes)
        return write_multilabel_results(
            folder, texts, labels, probabilities, classes, threshold, separator, mistakes, notes
        )
    labels = np.asarray(labels)
    predicted = probabilities.argmax(axis=1)
    metrics = classification_metrics(labels, probabilities, classes)
    reliability = reliability_table(labels, probabilities)
    metrics.update(calibration_metrics(labels, probabilities, reliability))
    per_class = pd.DataFrame(
        [{"class": name, **scores} for name, scores in metrics["per_class"].items()]
    )
    predictions = prediction_table(texts, labels, probabilities, classes)
    # the folder is one DVC output: written whole under a temporary name, or not at all
    with atomic_path(folder, directory=True) as output:
        # per-class numbers go to per_class.csv and report.txt, not 40 columns of `dvc exp show`
        summary = {k: v for k, v in metrics.items() if k != "per_class"}
        write_json(output / "test.json", {**summary, **(notes or {})})
        write_json(output / HEADLINE_FILE, headline(summary))
        report = report_text(labels, predicted, classes)
        write_text(
            output / "report.txt", report + "\n" + costly_confusions(labels, predicted, classes)
        )
        per_class.to_csv(output / "per_class.csv", index=False)
        predictions.to_csv(output / "predictions.csv", index=False)
        mistakes = confident_mistakes(texts, labels, probabilities, classes, mistakes_per_class)
        for_people(mistakes).to_csv(output / "mistakes.csv", index=False)
        reliability.to_csv(output / "calibration.csv", index=False)
        save_confusion_matrix(labels, predicted, classes, output / "confusion_matrix.png")
        save_reliability_diagram(reliability, output / "reliability.png")
    return metrics


def classification_metrics(
    labels: Sequence[int], probabilities: np.ndarray, classes: Sequence[str]
) -> dict:
    """accuracy, loss (cross-entropy), macro and weighted F1, 95% bootstrap bounds of accuracy
    and macro F1, and per-class precision/recall/F1/support keyed by class name."""
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
        # how far the test rows pin these down: seeded, so a rerun writes the same bytes
        **bootstrap_intervals(np.asarray(labels), predicted, len(classes)),
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
