"""Likely label errors by confident learning (cleanlab): given out-of-fold predicted
probabilities for every train row, the rows whose given label the model, trained without them,
finds improbable, ranked by label quality (low: suspect), with the label it suggests instead,
and the estimated share of wrong labels in the split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cleanlab.count import num_label_issues
from cleanlab.filter import find_label_issues
from cleanlab.multilabel_classification import filter as multilabel_filter
from cleanlab.multilabel_classification import rank as multilabel_rank
from cleanlab.rank import get_label_quality_scores


@dataclass(frozen=True)
class LabelIssues:
    flagged: np.ndarray  # row indices of the likely errors, most suspect first
    scores: np.ndarray  # every row's label quality, 0..1 (low: suspect)
    suggested: list  # every row's likely label: a class id (multi-label: a list of ids)
    estimated_errors: int  # cleanlab's estimate of the number of wrong labels

    @property
    def error_rate(self) -> float:
        return self.estimated_errors / max(len(self.scores), 1)


def find_issues(
    labels: list, probabilities: np.ndarray, multi_label: bool = False, threshold: float = 0.5
) -> LabelIssues:
    """`labels`: a class id per row (multi-label: a list of ids); `probabilities`: rows x
    classes, each row's from a model that did not see it (out of fold)."""
    if multi_label:
        labels = [sorted(row) for row in labels]
        flagged = multilabel_filter.find_label_issues(
            labels, probabilities, return_indices_ranked_by="self_confidence", n_jobs=1
        )
        scores = multilabel_rank.get_label_quality_scores(labels, probabilities)
        suggested = [np.flatnonzero(row >= threshold).tolist() for row in probabilities]
        # what num_label_issues(multi_label=True) counts, without its deprecated inner call
        confident = multilabel_filter.find_label_issues(
            labels, probabilities, filter_by="confident_learning", n_jobs=1
        )
        estimated = int(np.sum(confident))
    else:
        labels = np.asarray(labels, dtype=np.int64)
        flagged = find_label_issues(
            labels, probabilities, return_indices_ranked_by="self_confidence", n_jobs=1
        )
        scores = get_label_quality_scores(labels, probabilities)
        suggested = probabilities.argmax(axis=1).tolist()
        estimated = num_label_issues(labels, probabilities)
    return LabelIssues(np.asarray(flagged, dtype=np.int64), scores, suggested, int(estimated))
