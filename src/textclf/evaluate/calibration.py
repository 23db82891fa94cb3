"""How far a model's probabilities can be trusted: expected calibration error, Brier score and
the reliability table behind the reliability diagram.

A model is calibrated when, of the rows it predicts with confidence 0.8, about 80% are right.
Fine-tuned transformers tend to be over-confident; the reliability diagram shows where.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 10  # equal-width confidence bins over [0, 1]


def reliability_table(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """Per confidence bin (the top class's probability): its mean confidence, the accuracy of
    its rows and their count; empty bins are left out."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    # bin b holds confidences in (b/BINS, (b+1)/BINS]; a confidence of exactly 0 goes to bin 0
    bins = np.clip(np.ceil(confidence * BINS).astype(int) - 1, 0, BINS - 1)
    rows = []
    for index in np.unique(bins):
        members = bins == index
        rows.append(
            {
                "bin": f"{index / BINS:.1f}-{(index + 1) / BINS:.1f}",
                "confidence": round(float(confidence[members].mean()), 6),
                "accuracy": round(float(correct[members].mean()), 6),
                "rows": int(members.sum()),
            }
        )
    return pd.DataFrame(rows, columns=["bin", "confidence", "accuracy", "rows"])


def calibration_metrics(
    labels: np.ndarray, probabilities: np.ndarray, table: pd.DataFrame | None = None
) -> dict[str, float]:
    """`ece`: the rows-weighted mean gap between confidence and accuracy over the bins of
    `reliability_table`; `brier`: the mean squared distance between the probabilities and the
    one-hot labels, summed over classes (0 is perfect, 2 the worst)."""
    if table is None:  # callers that also write the table pass it in
        table = reliability_table(labels, probabilities)
    gaps = (table["confidence"] - table["accuracy"]).abs()
    ece = float((gaps * table["rows"]).sum() / table["rows"].sum())
    one_hot = np.eye(probabilities.shape[1])[np.asarray(labels)]
    brier = float(((probabilities - one_hot) ** 2).sum(axis=1).mean())
    return {"ece": round(ece, 6), "brier": round(brier, 6)}
