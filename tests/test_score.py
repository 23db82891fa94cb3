"""`textclf score` on a real Ray, on CPU: shards scored through Ray Data equal `predict`'s
answers row for row, for every kind of model folder, a Parquet file in parts keeps its types, and
the score stage costs nothing by default and versions a scored archive."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import copy_project, repro, run, update_params
from fixtures import CLASSES, news_rows
from scoring import (
    SETTINGS,
    assert_equals_predict,
    csv_shards,
    saved_classifier,
    score,
)

from textclf.modeling.loading import load_model_for_training
from textclf.predict import classify
from textclf.stages.score import NOTHING_SCORED


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_bert) -> Path:
    """The classifier with its ONNX export beside it, as the package stage ships it: `auto`
    scores it with ONNX Runtime."""
    from textclf.ship.onnx_export import export_onnx

    folder = saved_classifier(tmp_path_factory.mktemp("exported"), tiny_bert)
    (folder / "onnx").mkdir()
    model = load_model_for_training(str(folder), CLASSES)
    export_onnx(model, folder / "onnx/model.onnx", opset=18)
    return folder


@pytest.fixture(scope="module")
def multi_label(tmp_path_factory, tiny_bert) -> Path:
    return saved_classifier(tmp_path_factory.mktemp("multi-label"), tiny_bert, multi_label=True)


@pytest.mark.parametrize("kind", ["tiny_student", "tiny_classifier", "exported", "multi_label"])
def test_scores_through_ray_equal_predicts_row_for_row(tmp_path, request, kind):
    model = request.getfixturevalue(kind)
    inputs = csv_shards(tmp_path / "archive", shards=3, rows=300)
    (inputs / "part-03.csv").write_bytes(b"")  # an empty shard
    (inputs / "notes.md").write_text("not a data file")
    result = score("--model", model, "--input", inputs, "--output", tmp_path / "out")
    for number in range(3):
        name = f"part-{number:02d}"
        assert_equals_predict(tmp_path / f"out/{name}.parquet", inputs / f"{name}.csv", model)
    empty = pq.read_table(tmp_path / "out/part-03.parquet")
    assert empty.num_rows == 0 and empty.column_names[-5:] == [
        "predicted",
        *(f"p_{name}" for name in CLASSES),
    ]
    assert len(pd.read_parquet(tmp_path / "out")) == 900  # the folder reads as one table
    manifest = json.loads((tmp_path / "out/_manifest.json").read_text())
    assert manifest["finished"] and manifest["rows"] == 900 and len(manifest["shards"]) == 4
    assert manifest["params"] == {
        "runtime": "auto",
        "precision": "auto",
        "batch_size": 64,
        "shard_rows": 1_000_000,
    }
    assert [entry["rows"] for entry in manifest["shards"]] == [300, 300, 300, 0]
    predicted = pd.read_parquet(tmp_path / "out")["predicted"].tolist()
    if kind == "multi_label":  # each of a row's labels counts
        predicted = [label for row in predicted for label in row.split(SETTINGS.label_separator)]
    counts = Counter(label for label in predicted if label)
    assert {k: v for k, v in manifest["class_counts"].items() if v} == counts
    lines = result.stdout.strip().splitlines()
    assert lines[-3].startswith("scored 900 rows in 4 shards on 1 node in ")
    assert "texts/s" in lines[-3] and lines[-2].endswith("900 rows in 4 shards (_manifest.json)")
    assert lines[-1].startswith("predicted, over all 900 rows: World ")


def test_a_parquet_file_is_scored_in_parts_with_its_types_and_the_kept_columns(
    tmp_path, tiny_student
):
    rows = news_rows(2000, seed=7)
    table = pa.table(
        {
            "id": pa.array(range(2000), pa.int64()),
            "title": [row[1] for row in rows],
            "description": [row[2] for row in rows],
            "predicted": ["stale"] * 2000,  # an earlier run's column is replaced, as predict does
        }
    )
    source = tmp_path / "big.parquet"
    pq.write_table(table, source, row_group_size=250)
    out = tmp_path / "out"
    args = ["--model", tiny_student, "--input", source, "--output", out, "--shard-rows", 500]
    score(*args, "--keep", "id")
    names = sorted(path.name for path in out.iterdir())
    assert names == ["_manifest.json", *(f"big.part-{i:05d}-of-00004.parquet" for i in range(4))]
    scored = pq.read_table(out)
    assert scored.schema.field("id").type == pa.int64()
    assert scored.column_names == ["id", "predicted", *(f"p_{name}" for name in CLASSES)]
    assert sorted(scored["id"].to_pylist()) == list(range(2000))
    texts = [f"{title} {text}" for _, title, text in rows]
    ordered = scored.sort_by("id")
    assert (
        ordered["predicted"].to_pylist() == classify(texts, str(tiny_student))["predicted"].tolist()
    )


@pytest.mark.pipeline
def test_the_score_stage_costs_nothing_by_default_and_versions_a_scored_archive(
    trained_project, tmp_path
):
    assert (trained_project / "data/scored/README.md").read_text() == NOTHING_SCORED
    project = copy_project(trained_project, tmp_path / "repo")
    inputs = csv_shards(project / "archive", shards=2, rows=100)
    update_params(project, {"score": {"input": "archive", "model": "model"}})
    assert repro(project, "score") == {"score"}
    for number in range(2):
        name = f"part-{number:02d}"
        scored, source = project / f"data/scored/{name}.parquet", inputs / f"{name}.csv"
        assert_equals_predict(scored, source, project / "models/model")
    assert not (project / "data/scoring").exists()
    assert "score" not in run(["dvc", "status", "score"], project).stdout
