"""One row per scored text (`predictions.csv`): the text, its label, the model's prediction and
a `p_<class>` probability per class; multi-label sets joined by the label separator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from textclf.config.data_params import DataParams
from textclf.data.labels import label_matrix


def label_names(matrix: np.ndarray, classes: Sequence[str], separator: str) -> list[str]:
    """Each row's labels (a rows x classes boolean matrix) as names joined by `separator`."""
    return [separator.join(c for c, on in zip(classes, row, strict=True) if on) for row in matrix]


def prediction_table(
    texts: Sequence[str],
    labels: Sequence,
    probabilities: np.ndarray,
    classes: Sequence[str],
    multi_label: bool = False,
    threshold: float = 0.5,
    separator: str = DataParams.label_separator,
) -> pd.DataFrame:
    """`text`, `label`, `predicted` (names) and `p_<class>` columns, in row order."""
    if multi_label:
        truth = label_matrix(labels, len(classes)).astype(bool)
        given = label_names(truth, classes, separator)
        predicted = label_names(probabilities >= threshold, classes, separator)
    else:
        given = [classes[i] for i in np.asarray(labels)]
        predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    table = pd.DataFrame({"text": list(texts), "label": given, "predicted": predicted})
    for index, name in enumerate(classes):
        table[f"p_{name}"] = probabilities[:, index].round(6)
    return table
