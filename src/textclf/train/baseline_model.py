"""The notebook's comparison point as a scikit-learn pipeline: TF-IDF word n-grams and/or
averaged GloVe vectors, then logistic regression (one-vs-rest for multi-label). The baseline
stage scores it on the test split; the quality stage fits it fold by fold."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler

from textclf.config.errors import ParamsError
from textclf.config.report_params import BaselineParams
from textclf.data.labels import label_matrix

WORD = re.compile(r"[a-z0-9']+")


class MeanWordVectors(TransformerMixin, BaseEstimator):
    """Each text as the mean of its words' vectors (lower-cased; unknown words skipped), read
    from a GloVe-format text file: one `word v1 v2 ...` per line."""

    def __init__(self, path: str):
        self.path = path

    def fit(self, texts, labels=None):
        self.vectors_ = {}
        with open(self.path, encoding="utf-8") as file:
            for line in file:
                word, *values = line.rstrip().split(" ")
                self.vectors_[word] = np.asarray(values, dtype=np.float32)
        self.dimension_ = len(next(iter(self.vectors_.values())))
        return self

    def transform(self, texts) -> np.ndarray:
        features = np.zeros((len(texts), self.dimension_), dtype=np.float32)
        for row, text in enumerate(texts):
            known = [self.vectors_[w] for w in WORD.findall(text.lower()) if w in self.vectors_]
            if known:
                features[row] = np.mean(known, axis=0)
        return features


def build_model(
    params: BaselineParams, class_weights: str = "none", multi_label: bool = False
) -> object:
    """The feature union + logistic regression; one binary regression per label (one-vs-rest)
    for a multi-label task. `class_weights: balanced` weighs classes by inverse frequency, as
    `train.class_weights` does for the transformer."""
    features = []
    if "tfidf" in params.features:
        features.append(
            TfidfVectorizer(
                ngram_range=(1, params.ngram_max), min_df=params.min_df, sublinear_tf=True
            )
        )
    if "glove" in params.features:
        features.append(make_pipeline(MeanWordVectors(params.vectors), StandardScaler()))
    classifier = LogisticRegression(
        C=params.C,
        max_iter=params.max_iter,
        class_weight="balanced" if class_weights == "balanced" else None,
    )
    if multi_label:
        classifier = OneVsRestClassifier(classifier)
    return make_pipeline(make_union(*features), classifier)


def fit_and_predict(
    model,
    texts: Sequence[str],
    labels: Sequence,
    scored: Sequence[str],
    n_classes: int,
    multi_label: bool = False,
) -> np.ndarray:
    """Fit `model` (from build_model) on `texts` and their labels (class ids, or lists of ids
    when `multi_label`), and return rows x classes probabilities of `scored`, columns by class
    id: a class absent from the fitted rows gets probability 0."""
    try:
        model.fit(texts, label_matrix(labels, n_classes) if multi_label else np.asarray(labels))
    except ValueError as error:
        if "min_df" not in str(error) and "no terms remain" not in str(error):
            raise
        # scikit-learn's TF-IDF keeps no n-gram: baseline.min_df is above what these rows allow
        raise ParamsError(
            f"baseline.min_df leaves no n-gram in the {len(texts)} texts the baseline is "
            "fitted on: lower it"
        ) from None
    if multi_label:
        return model.predict_proba(scored)
    probabilities = np.zeros((len(scored), n_classes))
    probabilities[:, model.classes_] = model.predict_proba(scored)
    return probabilities
