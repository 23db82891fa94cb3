"""`textclf score` keeps its promises under crashes and bad input: a SIGKILLed job's rerun
writes every row exactly once, a folder never mixes two models, and bad input is one line with
nothing written under a final name."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import command_env, free_port
from scoring import (
    csv_shards,
    score,
)


def test_a_sigkilled_job_reruns_to_every_row_exactly_once(tmp_path, tiny_classifier):
    inputs = csv_shards(tmp_path / "archive", shards=6, rows=300, header=True)
    out = tmp_path / "out"
    # one text per forward pass: slow enough that the job is mid-way when it is killed
    args = ["--model", tiny_classifier, "--input", inputs, "--output", out, "--batch-size", 1]
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
        with contextlib.suppress(ProcessLookupError):  # what Ray started for the driver
            os.killpg(job.pid, signal.SIGKILL)
    assert 1 <= len(list(out.glob("*.parquet"))) < 6
    result = score(*args[:-2])
    # an actor may still finish the shard it was writing: Ray stops it when its node's raylet
    # notices the driver is gone
    skipped = re.search(r"^(\d) of 6 shards already scored: skipping them$", result.stdout, re.M)
    assert skipped and 1 <= int(skipped[1]) < 6, result.stdout
    scored = pd.read_parquet(out)
    assert sorted(scored["id"].astype(int).tolist()) == list(range(1800))
    assert [path.name for path in out.iterdir() if path.name.startswith(".")] == []


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
def test_a_bad_shard_is_one_line_and_gets_no_output(tmp_path, tiny_student, damage, message):
    inputs = csv_shards(tmp_path / "archive", shards=1, rows=200, header=True)
    damage(inputs)
    out = tmp_path / "out"
    result = score("--model", tiny_student, "--input", inputs, "--output", out, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, result.stderr[-2000:]
    broken = "part-00" if damage is late_bad_bytes else "part-01"
    assert not (out / f"{broken}.parquet").exists()
    assert not out.exists() or all(
        p.suffix != ".parquet" or p.stat().st_size for p in out.iterdir()
    )


def test_bad_models_and_outputs_are_one_line_and_write_nothing(tmp_path, tiny_student):
    inputs = csv_shards(tmp_path / "archive", shards=2, rows=50)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "part-00.parquet").write_text("a file of the user's")
    cases = {
        "no model": (["--model", tmp_path, "--output", tmp_path / "o1"], "no checkpoint here"),
        "inside the input": (["--model", tiny_student, "--output", inputs / "scored"], "inside"),
        "a user's folder": (["--model", tiny_student, "--output", mine], "that no score run wrote"),
        "no cluster": (
            [
                "--model",
                tiny_student,
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
        tiny_student,
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


def test_a_folder_scored_by_one_model_refuses_another(tmp_path, tiny_student, tiny_classifier):
    inputs = csv_shards(tmp_path / "archive", shards=2, rows=50)
    score("--model", tiny_student, "--input", inputs, "--output", tmp_path / "out")
    before = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()}
    result = score(
        "--model", tiny_classifier, "--input", inputs, "--output", tmp_path / "out", check=False
    )
    assert "holds shards scored by another model" in result.stderr.strip().splitlines()[-1]
    assert {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()} == before


def test_an_input_replaced_since_is_scored_again(tmp_path, tiny_student):
    inputs = csv_shards(tmp_path / "archive", shards=2, rows=50, header=True)
    args = ["--model", tiny_student, "--input", inputs, "--output", tmp_path / "out"]
    score(*args)
    first = (inputs / "part-00.csv").read_text().splitlines()
    (inputs / "part-00.csv").write_text("\n".join([first[0], *first[1:11]]) + "\n")
    rerun = score(*args)
    assert "1 of 2 shards already scored: skipping them" in rerun.stdout
    assert len(pd.read_parquet(tmp_path / "out/part-00.parquet")) == 10
    assert len(pd.read_parquet(tmp_path / "out")) == 60
