import numpy as np
import pandas as pd
import pytest
from fixtures import CLASSES, TOPIC_WORDS, news_rows

from textclf.config.report_params import BaselineParams
from textclf.data.text import join_text
from textclf.train.baseline_model import MeanWordVectors, build_model


def examples(count: int, seed: int) -> pd.DataFrame:
    rows = pd.DataFrame(news_rows(count, seed), columns=["label", "title", "description"])
    return pd.DataFrame(
        {"text": join_text(rows, ["title", "description"]), "label": rows["label"] - 1}
    )


@pytest.fixture
def vectors_file(tmp_path):
    """A tiny GloVe-format file: each topic's words point along their own axis, plus noise."""
    rng = np.random.default_rng(0)
    lines = []
    for axis, name in enumerate(CLASSES):
        for word in TOPIC_WORDS[name].split():
            vector = rng.normal(0, 0.1, 8)
            vector[axis] += 1
            lines.append(" ".join([word, *(f"{value:.4f}" for value in vector)]))
    path = tmp_path / "vectors.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("features", [["tfidf"], ["glove"], ["tfidf", "glove"]])
def test_baseline_learns_the_fixture_topics(features, vectors_file):
    params = BaselineParams(features=features, min_df=1, vectors=str(vectors_file))
    train, test = examples(400, seed=0), examples(100, seed=1)
    model = build_model(params).fit(train["text"], train["label"])
    accuracy = (model.predict(test["text"]) == test["label"]).mean()
    assert accuracy > 0.8, (features, accuracy)


def test_mean_word_vectors_averages_known_words_and_skips_unknown(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("oil 1 0\nprice 0 1\n", encoding="utf-8")
    features = MeanWordVectors(str(path)).fit([]).transform(["Oil PRICE zzz", "nothing known"])
    assert features.tolist() == [[0.5, 0.5], [0.0, 0.0]]
