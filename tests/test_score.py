"""`textclf score` on a real Ray, on CPU: shards scored through Ray Data equal `predict`'s answers
row for row, a SIGKILLed job's rerun writes every row exactly once, a two-node cluster gives the
same output, and bad input is one line with nothing written under a final name."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from conftest import command_env, copy_project, free_port, repro, run, update_params
from fixtures import CLASSES, news_rows
from transformers import AutoTokenizer

from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.modeling.loading import load_model_for_training
from textclf.predict import classify, read_input
from textclf.ship.runtime import checkpoint_settings
from textclf.stages.score import NOTHING_SCORED

SETTINGS = CheckpointSettings(columns=["label", "title", "description"])


def saved_classifier(folder: Path, tiny_bert: Path, multi_label: bool = False) -> Path:
    """An (untrained) classifier saved as the train stage saves one, with its text settings."""
    torch.manual_seed(0)
    model = load_model_for_training(str(tiny_bert), CLASSES, multi_label)
    model.config.textclf = SETTINGS.to_config()
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def transformer(tmp_path_factory, tiny_bert) -> Path:
    return saved_classifier(tmp_path_factory.mktemp("transformer"), tiny_bert)


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


@pytest.fixture(scope="module")
def student(tmp_path_factory, transformer) -> Path:
    """A static student of the tiny transformer, its head random: the tests compare two ways of
    computing the same scores, not their quality."""
    from textclf.distill.static_student import Head, distill_embeddings, save_static_student

    folder = tmp_path_factory.mktemp("student")
    static = distill_embeddings(transformer, pca_dims=16)
    torch.manual_seed(0)
    head = Head(static.embedding.shape[1], len(CLASSES))
    config = {
        "num_labels": len(CLASSES),
        "id2label": {str(i): name for i, name in enumerate(CLASSES)},
        "textclf": SETTINGS.to_config(),
    }
    save_static_student(folder, static, head, config, hidden=0)
    return folder


def csv_shards(folder: Path, shards: int, rows: int, header: bool = False) -> Path:
    """`shards` CSV files of AG-News-shaped rows: header-less (the training data's layout), or
    with a header and an `id` column numbering every row of the archive."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(shards):
        chosen = news_rows(rows, seed=100 + number)
        with (folder / f"part-{number:02d}.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            if header:
                writer.writerow(["id", "title", "description"])
                writer.writerows(
                    [number * rows + i, title, text] for i, (_, title, text) in enumerate(chosen)
                )
            else:
                writer.writerows(chosen)
    return folder


def score(*args: object, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "textclf.score", *map(str, args)],
        capture_output=True,
        text=True,
        env={**command_env(), **env},
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def assert_equals_predict(output: Path, source: Path, model: Path) -> None:
    """The output shard holds the input's columns, then exactly `predict`'s answers."""
    scored = pd.read_parquet(output)
    frame, texts = read_input(str(source), checkpoint_settings(model))
    expected = classify(texts, str(model))
    assert list(scored.columns) == [*frame.columns, *expected.columns]
    assert scored["predicted"].tolist() == expected["predicted"].tolist()
    for column in expected.columns[1:]:
        assert (scored[column] - expected[column]).abs().max() <= 1e-6, column
    for column in frame.columns:
        assert scored[column].astype(str).tolist() == frame[column].astype(str).tolist()


@pytest.mark.parametrize("kind", ["student", "transformer", "exported", "multi_label"])
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
    predicted = pd.read_parquet(tmp_path / "out")["predicted"].tolist()
    if kind == "multi_label":  # each of a row's labels counts
        predicted = [label for row in predicted for label in row.split(SETTINGS.label_separator)]
    counts = Counter(label for label in predicted if label)
    assert {k: v for k, v in manifest["class_counts"].items() if v} == counts
    lines = result.stdout.strip().splitlines()
    assert lines[-3].startswith("scored 900 rows in 4 shards on 1 node in ")
    assert "texts/s" in lines[-3] and lines[-2].endswith("900 rows in 4 shards (_manifest.json)")
    assert lines[-1].startswith("predicted, over all 900 rows: World ")


def test_a_parquet_file_is_scored_in_parts_with_its_types_and_the_kept_columns(tmp_path, student):
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
    score(
        "--model", student, "--input", source, "--output", out, "--shard-rows", 500, "--keep", "id"
    )
    names = sorted(path.name for path in out.iterdir())
    assert names == ["_manifest.json", *(f"big.part-{i:05d}-of-00004.parquet" for i in range(4))]
    scored = pq.read_table(out)
    assert scored.schema.field("id").type == pa.int64()
    assert scored.column_names == ["id", "predicted", *(f"p_{name}" for name in CLASSES)]
    assert sorted(scored["id"].to_pylist()) == list(range(2000))
    texts = [f"{title} {text}" for _, title, text in rows]
    ordered = scored.sort_by("id")
    assert ordered["predicted"].to_pylist() == classify(texts, str(student))["predicted"].tolist()


def test_a_sigkilled_job_reruns_to_every_row_exactly_once(tmp_path, transformer):
    inputs = csv_shards(tmp_path / "archive", shards=8, rows=400, header=True)
    out = tmp_path / "out"
    # one text per forward pass: slow enough that the job is mid-way when it is killed
    args = ["--model", transformer, "--input", inputs, "--output", out, "--batch-size", 1]
    job = subprocess.Popen(
        [sys.executable, "-m", "textclf.score", *map(str, args)],
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(job.pid, signal.SIGKILL)  # the driver, as an OOM killer would
        job.wait(timeout=30)
    finally:
        time.sleep(2)
        with contextlib.suppress(ProcessLookupError):  # what Ray started for the driver
            os.killpg(job.pid, signal.SIGKILL)
    done = len(list(out.glob("*.parquet")))
    assert 1 <= done < 8, done
    result = score(*args[:-2])
    assert f"{done} of 8 shards already scored: skipping them" in result.stdout
    scored = pd.read_parquet(out)
    assert sorted(scored["id"].astype(int).tolist()) == list(range(3200))
    assert [path.name for path in out.iterdir() if path.name.startswith(".")] == []


def test_a_two_node_cluster_runs_the_job_on_both_nodes_with_the_same_output(tmp_path, student):
    from ray.cluster_utils import Cluster

    inputs = csv_shards(tmp_path / "archive", shards=4, rows=200)
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        result = score(
            "--model",
            student,
            "--input",
            inputs,
            "--output",
            tmp_path / "out",
            "--address",
            cluster.address,
            "--actors",
            2,
        )
    finally:
        cluster.shutdown()
    assert " on 2 nodes in " in result.stdout.strip().splitlines()[-3]
    for number in range(4):
        name = f"part-{number:02d}"
        assert_equals_predict(tmp_path / f"out/{name}.parquet", inputs / f"{name}.csv", student)


def another_schema(folder: Path) -> None:
    (folder / "part-01.csv").write_text("id,title,description,source\n1,a,b,c\n")


def corrupt_parquet(folder: Path) -> None:
    (folder / "part-01.parquet").write_bytes(b"PAR1 not really")


def no_text_columns(folder: Path) -> None:
    (folder / "part-01.csv").write_text("id,body\n1,hello\n")


def late_bad_bytes(folder: Path) -> None:
    lines = (folder / "part-00.csv").read_bytes().splitlines(keepends=True)
    (folder / "part-00.csv").write_bytes(b"".join(lines[:150]) + b"9,\xff\xfe,x\n")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (no_text_columns, "part-01.csv needs a 'text' column, or 'title' and 'description'"),
        (corrupt_parquet, "part-01.parquet: not a readable Parquet file"),
        (another_schema, "part-01.csv: its columns (id, title, description, source) differ"),
        (late_bad_bytes, "part-00.csv:151: bytes that are not UTF-8"),
    ],
)
def test_a_bad_shard_is_one_line_and_gets_no_output(tmp_path, student, damage, message):
    inputs = csv_shards(tmp_path / "archive", shards=1, rows=200, header=True)
    damage(inputs)
    out = tmp_path / "out"
    result = score("--model", student, "--input", inputs, "--output", out, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, result.stderr[-2000:]
    broken = "part-00" if damage is late_bad_bytes else "part-01"
    assert not (out / f"{broken}.parquet").exists()
    assert not out.exists() or all(
        p.suffix != ".parquet" or p.stat().st_size for p in out.iterdir()
    )


def test_bad_models_and_outputs_are_one_line_and_write_nothing(tmp_path, student):
    inputs = csv_shards(tmp_path / "archive", shards=2, rows=50)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "part-00.parquet").write_text("a file of the user's")
    cases = {
        "no model": (["--model", tmp_path, "--output", tmp_path / "o1"], "no checkpoint here"),
        "inside the input": (["--model", student, "--output", inputs / "scored"], "inside"),
        "a user's folder": (["--model", student, "--output", mine], "that no score run wrote"),
        "no cluster": (
            [
                "--model",
                student,
                "--output",
                tmp_path / "o2",
                "--address",
                f"127.0.0.1:{free_port()}",
            ],
            "does not answer",
        ),
    }
    for case, (args, message) in cases.items():
        result = score("--input", inputs, *args, check=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and lines[-1].startswith("error: "), (case, result.stderr)
        assert message in lines[-1] and "Traceback" not in result.stderr, (case, lines[-1])
    # Ray cannot start here: its session folder cannot be made
    (tmp_path / "not-a-folder").write_text("")
    result = score(
        "--input",
        inputs,
        "--model",
        student,
        "--output",
        tmp_path / "o3",
        check=False,
        RAY_TMPDIR=str(tmp_path / "not-a-folder"),
    )
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: Ray on this machine did not start (NotADirectoryError")
    ), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o3").exists()
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    assert not (inputs / "scored").exists()
    assert (mine / "part-00.parquet").read_text() == "a file of the user's"


def test_a_folder_scored_by_one_model_refuses_another(tmp_path, student, transformer):
    inputs = csv_shards(tmp_path / "archive", shards=2, rows=50)
    score("--model", student, "--input", inputs, "--output", tmp_path / "out")
    before = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()}
    result = score(
        "--model", transformer, "--input", inputs, "--output", tmp_path / "out", check=False
    )
    assert "holds shards scored by another model" in result.stderr.strip().splitlines()[-1]
    assert {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()} == before


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


def test_shards_on_s3_are_listed_read_and_scored_like_local_ones(tmp_path, student):
    import botocore.session
    from servers import ACCESS_KEY, BUCKET, SECRET_KEY, s3_server

    inputs = csv_shards(tmp_path / "archive", shards=2, rows=100)
    with s3_server(tmp_path / "s3") as endpoint:
        client = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )
        for path in inputs.iterdir():
            client.put_object(
                Bucket=BUCKET, Key=f"archive/2026/{path.name}", Body=path.read_bytes()
            )
        credentials = {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "textclf.score",
                "--model",
                str(student),
                "--input",
                f"s3://{BUCKET}/archive/",
                "--output",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            env={**command_env(), **credentials},
            timeout=600,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert SECRET_KEY not in result.stdout + result.stderr
    for number in range(2):
        name = f"part-{number:02d}"
        assert_equals_predict(
            tmp_path / f"out/2026/{name}.parquet", inputs / f"{name}.csv", student
        )
