"""How unsure a model is about each row, from its class probabilities: what active learning
ranks unlabelled rows by, so that annotators label the rows the model would learn most from.

- margin: the gap between the two most probable classes (multi-label: the label closest to
  its decision threshold); small is unsure.
- entropy: of the class distribution (multi-label: the sum of each label's); large is unsure.

Both are returned as `unsure`: larger means more unsure, so one ranking serves both."""

from __future__ import annotations

import numpy as np

STRATEGIES = ("margin", "entropy")


def scores(
    probabilities: np.ndarray, strategy: str, multi_label: bool = False, threshold: float = 0.5
) -> np.ndarray:
    """Each row's `strategy` value (the margin itself for margin, the entropy for entropy)."""
    clipped = np.clip(probabilities, 1e-12, 1.0)
    if strategy == "entropy":
        if multi_label:
            rest = np.clip(1 - probabilities, 1e-12, 1.0)
            return -(clipped * np.log(clipped) + rest * np.log(rest)).sum(axis=1)
        return -(clipped * np.log(clipped)).sum(axis=1)
    if multi_label:
        return np.abs(probabilities - threshold).min(axis=1)
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    return top_two[:, 1] - top_two[:, 0] if probabilities.shape[1] > 1 else top_two[:, 0]


def unsure(values: np.ndarray, strategy: str) -> np.ndarray:
    """`scores` turned so that larger is more unsure."""
    return values if strategy == "entropy" else -values


def spread_out(embeddings: np.ndarray, count: int) -> list[int]:
    """`count` rows of `embeddings` (most unsure first) far apart from one another: greedy
    farthest-point selection by cosine distance, starting from the most unsure row, so the
    chosen rows are not near-copies of one another."""
    if len(embeddings) <= count:
        return list(range(len(embeddings)))
    unit = embeddings / np.clip(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12, None)
    chosen = [0]
    distance = 1 - unit @ unit[0]
    for _ in range(count - 1):
        distance[chosen] = -np.inf
        pick = int(np.argmax(distance))  # ties: the more unsure (earlier) row
        chosen.append(pick)
        distance = np.minimum(distance, 1 - unit @ unit[pick])
    return sorted(chosen)
