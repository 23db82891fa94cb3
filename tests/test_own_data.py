"""The README's "Your own data" shapes, each through a real `dvc repro` on the tiny model:
metrics keyed by class names, `id2label` right, and predict labels a file of the same shape."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import fixture_params, make_project, run
from fixtures import CLASSES, news_rows

from textclf.predict import main as predict

pytestmark = pytest.mark.pipeline


def texts_and_names(count: int, seed: int, classes: list[str]) -> list[tuple[str, str, str]]:
    """(title, description, class name) rows of the given AG News classes only."""
    rows = [r for r in news_rows(count * 2, seed) if CLASSES[r[0] - 1] in classes]
    return [(title, description, CLASSES[label - 1]) for label, title, description in rows]


def write_tsv(path: Path, rows, names: dict[str, int]) -> None:
    """Header-less `sentence<TAB>0/1`, quotes left as text."""
    with path.open("w", encoding="utf-8") as file:
        for title, description, name in rows:
            file.write(f"{title} {description}\t{names[name]}\n")


def write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as file:
        for title, description, name in rows:
            file.write(json.dumps({"subject": title, "body": description, "category": name}))
            file.write("\n")


def write_header_csv(path: Path, rows, names: dict[str, str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "text", "sentiment"])
        for index, (title, description, name) in enumerate(rows):
            writer.writerow([index, f"{title} {description}", names[name]])


def write_parquet_ids(path: Path, rows) -> None:
    records = [{"text": f"{t} {d}", "label": CLASSES.index(n)} for t, d, n in rows]
    pq.write_table(pa.Table.from_pylist(records), path)


BINARY = ["World", "Sports"]
SHAPES = {
    "tsv 0/1 header-less": dict(
        suffix="tsv",
        classes=BINARY,
        write=lambda path, rows: write_tsv(path, rows, {"World": 0, "Sports": 1}),
        params={
            "columns": ["sentence", "label"],
            "text_columns": ["sentence"],
            "label_offset": 0,
            "classes": ["negative", "positive"],
        },
        expected_classes=["negative", "positive"],
    ),
    "jsonl string labels, given validation": dict(
        suffix="jsonl",
        classes=CLASSES,
        write=write_jsonl,
        params={"text_columns": ["subject", "body"], "label_column": "category", "classes": None},
        expected_classes=sorted(CLASSES),
        validation=True,
    ),
    "csv with header": dict(
        suffix="csv",
        classes=BINARY,
        write=lambda path, rows: write_header_csv(
            path, rows, {"World": "negative", "Sports": "positive"}
        ),
        params={
            "header": True,
            "text_columns": ["text"],
            "label_column": "sentiment",
            "classes": None,
        },
        expected_classes=["negative", "positive"],
    ),
    "parquet 0-based ints": dict(
        suffix="parquet",
        classes=CLASSES,
        write=write_parquet_ids,
        params={"text_columns": ["text"], "label_offset": 0, "classes": CLASSES},
        expected_classes=CLASSES,
    ),
}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_own_data_shape_trains_evaluates_and_predicts(tmp_path, news_csvs, tiny_bert, shape):
    spec = SHAPES[shape]
    folder = tmp_path / "files"
    folder.mkdir()
    files = {}
    splits = {"train": (480, 0), "test": (120, 1), "validation": (60, 2), "new": (20, 3)}
    for split, (count, seed) in splits.items():
        files[split] = folder / f"{split}.{spec['suffix']}"
        spec["write"](files[split], texts_and_names(count, seed, spec["classes"]))
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["data"] = {
        "train_url": str(files["train"]),
        "test_url": str(files["test"]),
        "validation_url": str(files["validation"]) if spec.get("validation") else None,
        **spec["params"],
    }
    overrides["train"].update(epochs=2)
    project = make_project(tmp_path / "repo", overrides)
    run(["dvc", "repro", "evaluate"], project)

    classes = spec["expected_classes"]
    per_class = pd.read_csv(project / "metrics/transformer/per_class.csv")
    assert per_class["class"].tolist() == classes
    test = json.loads((project / "metrics/transformer/test.json").read_text())
    assert test["accuracy"] > 0.7, test
    # the train stage's checkpoint (the package stage's copy, models/model, is not built here)
    config = json.loads((project / "models/trained/config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(classes))] == classes
    report = json.loads((project / "metrics/data.json").read_text())
    if spec.get("validation"):
        assert report["rows"]["validation"] == len(texts_and_names(60, 2, spec["classes"]))
    assert set(report["rows_per_class"]["train"]) == set(classes)

    # predict reads a file shaped like the training data, with no flags
    output = tmp_path / "labelled.csv"
    model = str(project / "models/trained")
    predict(["--model", model, "--input", str(files["new"]), "--output", str(output)])
    labelled = pd.read_csv(output)
    assert len(labelled) == len(texts_and_names(20, 3, spec["classes"]))
    assert set(labelled["predicted"]) <= set(classes)
    assert [f"p_{name}" for name in classes] == [c for c in labelled if c.startswith("p_")]
