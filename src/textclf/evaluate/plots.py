"""PNG figures for people who would rather look than read (DVC renders the JSON/CSV plots)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # stages run headless

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from textclf.config.files import atomic_path  # noqa: E402


def save_confusion_matrix(
    labels: Sequence[int],
    predicted: Sequence[int],
    classes: Sequence[str],
    path: str | Path,
    title: str | None = None,
    axis_names: tuple[str, str] = ("True label", "Predicted label"),
) -> None:
    size = max(4.0, 0.9 * len(classes) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    # counted here, not by from_predictions: a run with no rows to show still gets its figure
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(
        matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1
    )
    ConfusionMatrixDisplay(matrix, display_labels=list(classes)).plot(
        cmap="Blues", colorbar=False, ax=axes, xticks_rotation=45
    )
    axes.set_title(title or f"Confusion matrix ({len(labels)} test rows)")
    axes.set_ylabel(axis_names[0])
    axes.set_xlabel(axis_names[1])
    _save(figure, path)


def save_training_curves(log_history: list[dict], path: str | Path) -> None:
    """Train/validation loss and validation accuracy against the training step."""
    train = [(entry["step"], entry["loss"]) for entry in log_history if "loss" in entry]
    evals = [
        (entry["step"], entry["eval_loss"], entry["eval_accuracy"])
        for entry in log_history
        if "eval_loss" in entry
    ]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    if train:
        loss_axes.plot(*np.array(train).T, ".-", label="train loss")
    if evals:
        steps, losses, accuracies = np.array(evals).T
        loss_axes.plot(steps, losses, "o-", label="validation loss")
        accuracy_axes.plot(steps, accuracies, "o-", color="tab:green")
    loss_axes.set(xlabel="step", ylabel="loss", title="Loss")
    loss_axes.legend()
    accuracy_axes.set(xlabel="step", ylabel="accuracy", title="Validation accuracy")
    _save(figure, path)


def save_reliability_diagram(table: pd.DataFrame, path: str | Path) -> None:
    """Accuracy against confidence per bin (see
    `textclf.evaluate.calibration.reliability_table`): bars below the diagonal are
    over-confident, above it under-confident."""
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    axes.plot(table["confidence"], table["accuracy"], "o-", label="model")
    for _, row in table.iterrows():
        axes.annotate(
            f"{row['rows']}",
            (row["confidence"], row["accuracy"]),
            fontsize=7,
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
        )
    axes.set(
        xlim=(0, 1.02),
        ylim=(0, 1.05),
        xlabel="confidence (top class probability)",
        ylabel="accuracy",
        title="Reliability (labels: rows per bin)",
    )
    axes.legend(loc="upper left")
    _save(figure, path)


def _save(figure: plt.Figure, path: str | Path) -> None:
    figure.tight_layout()
    with atomic_path(path) as temporary:
        # no timestamp in the PNG metadata: same inputs, same bytes
        figure.savefig(temporary, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
