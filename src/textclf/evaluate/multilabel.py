"""Scores of multi-label predictions (`data.multi_label: true`): each row has a set of labels,
and a label is predicted where its sigmoid probability reaches `train.threshold`.

`accuracy` is subset accuracy here (the row's whole label set right, as scikit-learn's
`accuracy_score` counts it for multi-label input), so the single-label keys of test.json,
`dvc exp show`, `compare` and the model card keep their meaning of "rows right"."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    f1_score,
    hamming_loss,
    log_loss,
    precision_recall_fscore_support,
)

from textclf.config.data_params import DataParams
from textclf.config.files import atomic_path, write_json, write_text
from textclf.config.spreadsheet import for_people
from textclf.data.labels import label_matrix
from textclf.evaluate.calibration import calibration_metrics, reliability_table
from textclf.evaluate.headline import HEADLINE_FILE, headline
from textclf.evaluate.plots import save_reliability_diagram
from textclf.evaluate.predictions import prediction_table
from textclf.evaluate.statistics import RESAMPLES, SEED, percentile_interval, resampled_rows


def multilabel_scores(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Subset accuracy (every label of the row right), Hamming loss (the share of wrong
    row x label decisions), micro and macro F1, from rows x classes indicator matrices."""
    labels, predicted = np.asarray(labels) >= 0.5, np.asarray(predicted).astype(bool)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "hamming_loss": float(hamming_loss(labels, predicted)),
        "f1_micro": float(f1_score(labels, predicted, average="micro", zero_division=0)),
        "f1_macro": float(f1_score(labels, predicted, average="macro", zero_division=0)),
    }


def write_multilabel_results(
    folder: str | Path,
    texts: Sequence[str],
    labels: Sequence[Sequence[int]],
    probabilities: np.ndarray,
    classes: Sequence[str],
    threshold: float = 0.5,
    separator: str = DataParams.label_separator,
    mistakes: int = 20,
    notes: dict | None = None,
) -> dict:
    """A multi-label model's test results, with the single-label files' names: test.json
    (subset accuracy as `accuracy`, Hamming loss, micro/macro/weighted F1, bootstrap bounds,
    BCE loss, and the calibration of every row x label decision), report.txt, per_class.csv,
    predictions.csv (label sets joined by `separator`), mistakes.csv (the `mistakes` rows whose
    wrong label decision was the most confident), calibration.csv and reliability.png. No
    confusion matrix: labels are not exclusive."""
    truth = label_matrix(labels, len(classes)).astype(bool)
    chosen = probabilities >= threshold
    precision, recall, f1, support = precision_recall_fscore_support(truth, chosen, zero_division=0)
    per_class = pd.DataFrame(
        {
            "class": list(classes),
            "precision": precision.round(6),
            "recall": recall.round(6),
            "f1": f1.round(6),
            "support": support,
        }
    )
    # each row x label decision is a yes/no prediction: calibration is measured over them all
    decisions = np.stack([1 - probabilities.ravel(), probabilities.ravel()], axis=1)
    reliability = reliability_table(truth.ravel().astype(int), decisions)
    metrics = {
        **{key: round(value, 6) for key, value in multilabel_scores(truth, chosen).items()},
        **multilabel_intervals(truth, chosen),
        "f1_weighted": round(
            float(f1_score(truth, chosen, average="weighted", zero_division=0)), 6
        ),
        "loss": round(float(log_loss(truth.ravel(), probabilities.ravel(), labels=[0, 1])), 6),
        "threshold": threshold,
        **calibration_metrics(truth.ravel().astype(int), decisions, reliability),
    }
    predictions = prediction_table(
        texts,
        labels,
        probabilities,
        classes,
        multi_label=True,
        threshold=threshold,
        separator=separator,
    )
    # the probability the model gave its decision (yes: p, no: 1 - p), on its wrong decisions
    confidence = np.where(chosen, probabilities, 1 - probabilities)
    wrong_confidence = np.where(chosen != truth, confidence, -1).max(axis=1).round(6)
    wrong = predictions[wrong_confidence >= 0].assign(
        probability=wrong_confidence[wrong_confidence >= 0]
    )
    ordered = wrong.sort_values("probability", ascending=False, kind="stable").head(mistakes)
    with atomic_path(folder, directory=True) as output:
        write_json(output / "test.json", {**metrics, **(notes or {})})
        write_json(output / HEADLINE_FILE, headline(metrics))
        report = classification_report(
            truth, chosen, target_names=list(classes), digits=4, zero_division=0
        )
        write_text(output / "report.txt", report)
        per_class.to_csv(output / "per_class.csv", index=False)
        predictions.to_csv(output / "predictions.csv", index=False)
        for_people(ordered[["text", "label", "predicted", "probability"]]).to_csv(
            output / "mistakes.csv", index=False
        )
        reliability.to_csv(output / "calibration.csv", index=False)
        save_reliability_diagram(reliability, output / "reliability.png")
    return metrics


def multilabel_intervals(
    truth: np.ndarray, chosen: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, float]:
    """95% bootstrap bounds of subset accuracy and macro F1 (`accuracy_low`, ...), over the
    same seeded row resamples as the single-label bounds."""
    right = (truth == chosen).all(axis=1).astype(np.float64)
    # per row: [hit, false positive, false negative] per label, so a resample's counts are one
    # product of how often it draws each row with this matrix
    outcomes = np.concatenate([truth & chosen, ~truth & chosen, truth & ~chosen], axis=1)
    outcomes = outcomes.astype(np.float64)
    accuracy, f1 = np.empty(resamples), np.empty(resamples)
    for index, drawn in enumerate(resampled_rows(len(truth), resamples, seed)):
        counts = np.bincount(drawn, minlength=len(truth)).astype(np.float64)
        tp, fp, fn = np.split(counts @ outcomes, 3)
        denominator = 2 * tp + fp + fn
        per_label = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)
        accuracy[index], f1[index] = counts @ right / len(truth), per_label.mean()
    bounds = {}
    scores = {"accuracy": accuracy, "f1_macro": f1}
    for name, values in scores.items():
        bounds[f"{name}_low"], bounds[f"{name}_high"] = percentile_interval(values)
    return bounds
