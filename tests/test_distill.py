"""The distill stage: a tiny teacher distilled into a static and a transformer student in real
`dvc repro` runs; the students load in predict and serve like the teacher."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    command_env,
    copy_project,
    digests,
    repro,
    run,
    serving,
    stage_error,
    update_params,
)
from fixtures import CLASSES, build_tiny_bert, news_rows
from test_serve import call, post

from textclf.config.typed_yaml import key_places
from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.table import DataError
from textclf.distill.soft_labels import POOL_CHUNK_ROWS, pool_texts
from textclf.ship.runtime import load

pytestmark = [pytest.mark.pipeline, pytest.mark.training]

POOL_ROWS = 300


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    """Unlabelled texts with a header naming the training text columns."""
    path = tmp_path_factory.mktemp("pool") / "pool.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["title", "description"])
        writer.writerows(row[1:] for row in news_rows(POOL_ROWS, seed=7))
    return path


def distilled(project: Path, **distill) -> set[str]:
    update_params(project, {"distill": distill})
    return repro(project, "distill")


def teacher_agreement(project: Path, student: Path) -> float:
    train = pd.read_parquet(project / "data/prepared/train.parquet")
    texts = train["text"].tolist()
    teacher = load(project / "models/model", "torch")
    pupil = load(student)
    agree = teacher.probabilities(texts).argmax(1) == pupil.probabilities(texts).argmax(1)
    return float(np.mean(agree))


@pytest.fixture(scope="module")
def static_project(trained_project, tmp_path_factory, pool) -> Path:
    project = copy_project(trained_project, tmp_path_factory.mktemp("static") / "repo")
    assert distilled(project, student="static", pool=str(pool)) == {"distill"}
    return project


def test_none_writes_no_model(trained_project):  # the fixtures' student
    assert [p.name for p in (trained_project / "models/student").iterdir()] == ["README.md"]
    assert json.loads((trained_project / "metrics/student/test.json").read_text()) == {
        "student": "none"
    }


def test_a_static_student_learns_the_teacher_and_predicts_and_serves(static_project):
    project = static_project
    student = project / "models/student"
    test = json.loads((project / "metrics/student/test.json").read_text())
    assert test["student"] == "static"
    assert test["pool_rows"] == POOL_ROWS and test["train_rows"] > 0
    assert test["versus_teacher"]["rows"] == len(
        pd.read_parquet(project / "data/prepared/test.parquet")
    )
    assert 0 <= test["agreement"] <= 1
    assert teacher_agreement(project, student) > 1 / len(CLASSES) + 0.25
    card = (student / "README.md").read_text()
    assert "Student of" in card and "| student |" in card and "| teacher |" in card
    # `dvc metrics diff` shows it beside the teacher's headline
    shown = run(["dvc", "metrics", "show", "--json"], project).stdout
    assert "metrics/student/headline.json" in shown
    # predict, unchanged
    source = project / "texts.csv"
    pd.DataFrame({"title": ["Stocks rally", "Cup final"], "description": ["up", "won"]}).to_csv(
        source, index=False
    )
    output = project / "predicted.csv"
    run(
        [
            sys.executable,
            "-m",
            "textclf",
            "predict",
            "--model",
            str(student),
            "--input",
            str(source),
            "--output",
            str(output),
        ],
        project,
    )
    predicted = pd.read_csv(output)
    assert set(predicted["predicted"]) <= set(CLASSES)
    assert [c for c in predicted.columns if c.startswith("p_")] == [f"p_{c}" for c in CLASSES]
    # serve, unchanged: same routes and shapes over real HTTP
    with serving(student) as url:
        assert call(url, "/health") == (
            200,
            {"status": "ok", "runtime": "static", "classes": CLASSES},
        )
        status, answer = post(url, {"inputs": ["Stocks rally on earnings"]})
        assert status == 200 and answer[0][0]["label"] in CLASSES  # HF pipeline shape
        assert post(url, {"inputs": 5})[0] == 422


def test_a_static_student_refuses_another_runtime(static_project):
    result = run(
        [
            sys.executable,
            "-m",
            "textclf",
            "predict",
            "--model",
            str(static_project / "models/student"),
            "--runtime",
            "onnx",
            "hello",
        ],
        static_project,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("error:") and "static student" in result.stderr
    assert "\n" not in result.stderr.strip()


def test_the_temperature_changes_the_student_and_the_run_cache_restores_it(
    static_project, tmp_path
):
    project = copy_project(static_project, tmp_path / "repo")
    before = digests(project / "models/student")
    assert distilled(project, temperature=5.0) == {"distill"}
    after = digests(project / "models/student")
    assert before["head.safetensors"] != after["head.safetensors"]
    # back to the first temperature: DVC's run-cache restores the first student, no rerun
    update_params(project, {"distill": {"temperature": 2.0}})
    result = run(["dvc", "repro", "distill"], project)
    assert "Running stage 'distill'" not in result.stdout, result.stdout
    assert digests(project / "models/student") == before


def test_tuning_the_static_vectors_changes_them_and_the_student_still_serves(
    static_project, tmp_path
):
    """`distill.tune_epochs`: the token vectors learn with the head; the student is the same
    kind of folder, and predicts like a static student."""
    project = copy_project(static_project, tmp_path / "repo")
    before = digests(project / "models/student")
    assert distilled(project, tune_epochs=0) == {"distill"}
    untuned = digests(project / "models/student")
    assert before["static/model.safetensors"] != untuned["static/model.safetensors"]
    assert distilled(project, tune_epochs=2, tune_learning_rate=0.01) == {"distill"}
    after = digests(project / "models/student")
    assert untuned["static/model.safetensors"] != after["static/model.safetensors"]
    assert set(before) == set(after)
    assert teacher_agreement(project, project / "models/student") > 0.5
    test = json.loads((project / "metrics/student/test.json").read_text())
    assert test["student"] == "static" and 0 <= test["accuracy"] <= 1


def test_a_transformer_student_keeps_fewer_layers_exports_and_serves(trained_project, tmp_path):
    project = copy_project(trained_project, tmp_path / "repo")
    assert distilled(project, student="transformer", layers=1, epochs=4, learning_rate=5e-3) == {
        "distill"
    }
    student = project / "models/student"
    config = json.loads((student / "config.json").read_text())
    assert config["num_hidden_layers"] == 1 and config["textclf"]
    assert (student / "onnx/model.onnx").is_file()
    assert (student / "onnx/model_quantized.onnx").is_file()
    assert teacher_agreement(project, student) > 1 / len(CLASSES) + 0.25
    onnx, torch = load(student, "onnx"), load(student, "torch")
    texts = ["Stocks rally on earnings", "The cup final went to extra time"]
    # fp32 on both sides (`auto` takes bf16 on a CPU with AMX; the export is fp32)
    exact = torch.probabilities(texts, precision="fp32")
    np.testing.assert_allclose(onnx.probabilities(texts), exact, atol=1e-4)
    test = json.loads((project / "metrics/student/test.json").read_text())
    assert test["student"] == "transformer" and test["pool_rows"] == 0
    with serving(student) as url:
        assert call(url, "/health")[1]["runtime"] == "onnx"
        status, answer = post(url, {"inputs": "Stocks rally on earnings"})
        assert status == 200 and answer[0][0]["label"] in CLASSES


@pytest.mark.parametrize(
    ("distill", "expected"),
    [
        ({"student": "tiny"}, "distill.student must be one of none, static, transformer"),
        ({"temperature": 0}, "distill.temperature must be in (0, 100]"),
        ({"true_label_weight": 1.5}, "distill.true_label_weight must be in [0, 1]"),
        ({"student": "static", "model": "prajjwal1/bert-tiny"}, "distill.model names a"),
        ({"student": "transformer", "layers": 2}, "distill.layers must be below the teacher's 2"),
        ({"student": "static", "pool": "missing.csv"}, "distill.pool: missing.csv: file not found"),
        (
            {"student": "static", "pool": "pool.xlsx"},
            "distill.pool: pool.xlsx: unknown format (the name ends in none of .csv, .tsv, "
            ".jsonl, .json, .parquet, optionally .gz): rename it to end in one of those",
        ),
        (
            {"student": "static", "pool": "https://example.com/pool.csv?token=s3cret"},
            "distill.pool: https://example.com/pool.csv?token=***: a URL; the pool is read from a "
            "local file",
        ),
        ({"student": "static", "pool": "other.csv"}, "distill.pool: "),
        ({"student": "static", "tune_epochs": -1}, "distill.tune_epochs must be >= 0"),
        (
            {"student": "transformer", "model": "no such/model here!"},
            "distill.model 'no such/model here!' is neither an existing local",
        ),
        (
            {"student": "transformer", "model": "other-vocabulary"},
            "distill.model 'other-vocabulary' has another vocabulary than the teacher",
        ),
    ],
)
def test_bad_distill_params_are_one_line_naming_the_key_before_any_training(
    trained_project, tmp_path, distill, expected
):
    project = copy_project(trained_project, tmp_path / "repo")
    if distill.get("model") == "other-vocabulary":
        words = [f"zq{index} xv{index % 13} other words entirely" for index in range(200)]
        build_tiny_bert(project / "other-vocabulary", words)
    (project / "pool.xlsx").write_text("not a table")
    (project / "other.csv").write_text("id,body\n1,no text columns here\n")
    before = digests(project / "models/student")
    update_params(project, {"distill": distill})
    message = stage_error("distill", project)
    assert message.startswith("error: ") and expected in message, message
    assert "params.yaml" in message or "distill.pool" in message
    if "distill.model" in expected:  # at its own line, not model.name's
        place = key_places(project / "params.yaml", ["distill.model"])["distill.model"]
        assert f"{Path(place).name}: distill.model" in message, message
    assert digests(project / "models/student") == before


def write_pool(path: Path, rows: int, bad_row: int | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["title", "description"])
        for index in range(rows):
            extra = ["an extra cell"] if index == bad_row else []
            writer.writerow([f"Title {index}", f"some words about topic {index % 97}", *extra])
    return path


def test_the_pool_is_streamed_in_bounded_memory(tmp_path):
    settings = CheckpointSettings()
    # lazily: the first chunk comes before a bad row far into the file is read
    broken = write_pool(tmp_path / "broken.csv", 3 * POOL_CHUNK_ROWS, bad_row=2 * POOL_CHUNK_ROWS)
    chunks = pool_texts(str(broken), settings, None)
    assert len(next(chunks)) == POOL_CHUNK_ROWS
    with pytest.raises(DataError):
        list(chunks)
    # the peak of Python allocations does not grow with the pool's rows
    peaks = {}
    for rows in (POOL_CHUNK_ROWS * 2, POOL_CHUNK_ROWS * 20):
        pool = write_pool(tmp_path / f"pool-{rows}.csv", rows)
        tracemalloc.start()
        seen = sum(len(chunk) for chunk in pool_texts(str(pool), settings, None))
        peaks[rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert seen == rows
    small, large = peaks.values()
    assert large < 2 * small, peaks
    # distill.max_pool_rows stops reading early
    assert sum(len(c) for c in pool_texts(str(pool), settings, 2500)) == 2500


def test_a_rerun_writes_the_same_bytes(static_project, tmp_path):
    project = copy_project(static_project, tmp_path / "repo")
    before = {
        **digests(project / "models/student"),
        **{f"metrics/{k}": v for k, v in digests(project / "metrics/student").items()},
    }
    assert repro(project, "--force", "--single-item", "distill") == {"distill"}
    after = {
        **digests(project / "models/student"),
        **{f"metrics/{k}": v for k, v in digests(project / "metrics/student").items()},
    }
    assert after == before


def test_sigterm_mid_distill_leaves_no_temporaries_and_the_student_whole(static_project, tmp_path):
    """The soft labels of every train and pool text live in a temporary folder: a stopped run
    removes it on the way out, as a finished one does."""
    project = copy_project(static_project, tmp_path / "repo")
    update_params(project, {"distill": {"seed": 3, "head_epochs": 2000}})  # long enough to stop
    before = digests(project / "models/student")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    stage = subprocess.Popen(
        [sys.executable, "-m", "textclf.stages.distill"],
        cwd=project,
        env={**command_env(), "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(scratch.glob("textclf-distill-*/soft_labels.parquet")):
        assert stage.poll() is None and time.monotonic() < deadline, "distill ended too soon"
        time.sleep(0.05)
    time.sleep(1)  # into the head's training
    stage.send_signal(signal.SIGTERM)
    output = stage.communicate(timeout=60)[0]
    assert stage.returncode != 0 and "Traceback" not in output, output
    assert output.strip().splitlines()[-1].startswith("interrupted: the stage stopped")
    assert list(scratch.iterdir()) == []
    assert digests(project / "models/student") == before


def test_select_diverse_runs_on_the_static_student(static_project, pool, tmp_path):
    """--diverse spreads the picks over the student's own vectors (it has no encoder)."""
    output = tmp_path / "next.csv"
    result = run(
        [sys.executable, "-m", "textclf.select", "--input", str(pool), "--count", "10"]
        + ["--diverse", "--model", "models/student", "--output", str(output)],
        static_project,
    )
    assert result.returncode == 0, result.stderr
    picked = pd.read_csv(output)
    assert len(picked) == 10 and picked["title"].nunique() == 10


def test_pool_rows_that_are_test_rows_are_left_out_and_counted(trained_project, pool, tmp_path):
    project = copy_project(trained_project, tmp_path / "repo")
    with (project / "data/raw/test.csv").open(newline="", encoding="utf-8") as file:
        test_rows = [row[1:] for row in csv.reader(file)][:20]
    mixed = project / "mixed.csv"
    mixed.write_text(pool.read_text(encoding="utf-8"), encoding="utf-8")
    with mixed.open("a", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(test_rows)
    update_params(project, {"distill": {"student": "static", "pool": "mixed.csv"}})
    output = run(["dvc", "repro", "distill"], project).stdout
    test = json.loads((project / "metrics/student/test.json").read_text())
    assert test["pool_rows_in_test"] >= 20
    assert test["pool_rows"] + test["pool_rows_in_test"] == POOL_ROWS + 20
    assert f"distill.pool: {test['pool_rows_in_test']} rows are test rows too: left out" in output
