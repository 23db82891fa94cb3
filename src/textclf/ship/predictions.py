"""A loaded model's answers as columns: `predicted` (the label, or a multi-label model's labels
joined by the training data's separator) and one `p_<class>` probability per class, rounded to 4
places. `predict` and `score` both write these columns, so a file scored either way is the same."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from textclf.ship.runtime import Classifier


def predictions(
    classifier: Classifier,
    texts: Sequence[str],
    batch_size: int = 64,
    precision: str = "auto",
    progress: bool = False,
) -> pd.DataFrame:
    """One row per text: `predicted` and the `p_<class>` columns."""
    probabilities = classifier.probabilities(texts, batch_size, progress, precision)
    separator = classifier.settings.label_separator
    predicted = [separator.join(labels) for labels in classifier.decisions(probabilities)]
    return labelled(predicted, probabilities, classifier.classes)


def labelled(
    predicted: Sequence[str], probabilities: np.ndarray, classes: Sequence[str]
) -> pd.DataFrame:
    result = pd.DataFrame({"predicted": list(predicted)})
    for index, name in enumerate(classes):
        result[f"p_{name}"] = probabilities[:, index].round(4)
    return result
