"""Where a model goes wrong: its most confident mistakes and the confusions that cost most."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix


def confident_mistakes(
    texts: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str],
    per_class: int,
) -> pd.DataFrame:
    """The `per_class` wrong predictions made with the highest probability for each true
    class (classes in id order, most confident first): text, label, predicted, probability.
    Such rows are often mislabelled, ambiguous, or a pattern the model has not learnt."""
    predicted = probabilities.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "text": list(texts),
            "label_id": np.asarray(labels),
            "label": [classes[i] for i in labels],
            "predicted": [classes[i] for i in predicted],
            "probability": probabilities.max(axis=1).round(6),
        }
    )
    wrong = frame[frame["label_id"] != predicted]
    ordered = wrong.sort_values(["label_id", "probability"], ascending=[True, False], kind="stable")
    top = ordered.groupby("label_id", sort=True).head(per_class)
    return top.drop(columns="label_id").reset_index(drop=True)


def costly_confusions(
    labels: np.ndarray, predicted: np.ndarray, classes: Sequence[str], top: int = 5
) -> str:
    """The `top` (true, predicted) pairs with the most wrong rows, as lines for the report."""
    matrix = confusion_matrix(labels, predicted, labels=list(range(len(classes))))
    np.fill_diagonal(matrix, 0)
    total = int(matrix.sum())
    if not total:
        return "No mistakes on the test rows.\n"
    # most rows first; ties in (true, predicted) id order
    order = np.argsort(-matrix, axis=None, kind="stable")[:top]
    pairs = [np.unravel_index(flat, matrix.shape) for flat in order]
    pairs = [(true, guess) for true, guess in pairs if matrix[true, guess]]
    names = [f"{classes[true]} -> {classes[guess]}" for true, guess in pairs]
    width = max(map(len, names))
    lines = [f"Costliest confusions (true -> predicted), of {total} wrong test rows:"]
    for name, (true, guess) in zip(names, pairs, strict=True):
        count = int(matrix[true, guess])
        lines.append(f"  {name:<{width}}  {count:>6}  {count / total:6.1%}")
    return "\n".join(lines) + "\n"
