"""`textclf select`: the pool rows the trained model is least sure about, checked against
`textclf predict`'s probabilities for the same file; streamed, spread out with --diverse, and
bad input is one line with nothing written."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures import CLASSES, news_rows, write_news_csv

from textclf import select
from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.inputs import input_chunks, input_layout

COMMAND = str(Path(sys.executable).parent / "textclf")


def textclf(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, timeout=300)


def select_in_process(*args: str) -> str:
    """`textclf select ARGS` in this process (no interpreter start-up); its stderr."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        select.main(list(args))
    return stderr.getvalue()


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    """An unlabelled pool: AG-News-shaped rows (the label column left empty, as a team's export
    might have it) with some rows mixing two topics, so the model is unsure of them."""
    rows = news_rows(150, seed=7)
    mixed = news_rows(150, seed=8)
    pool = [
        ("", title, mixed[i][2] if i % 5 == 0 else description)
        for i, (_, title, description) in enumerate(rows)
    ]
    return write_news_csv(tmp_path_factory.mktemp("pool") / "pool.csv", pool)


@pytest.fixture(scope="module")
def predicted(trained_project, pool, tmp_path_factory) -> pd.DataFrame:
    output = tmp_path_factory.mktemp("predicted") / "predicted.csv"
    model = str(trained_project / "models/model")
    result = textclf("predict", "--input", str(pool), "--output", str(output), "--model", model)
    assert result.returncode == 0, result.stderr
    return pd.read_csv(output, keep_default_na=False)


def margins(frame: pd.DataFrame) -> np.ndarray:
    probabilities = np.sort(frame[[f"p_{name}" for name in CLASSES]].to_numpy(), axis=1)
    return probabilities[:, -1] - probabilities[:, -2]


@pytest.mark.pipeline
@pytest.mark.parametrize("strategy", ["margin", "entropy"])
def test_select_returns_the_least_sure_rows_by_predicts_probabilities(
    trained_project, pool, predicted, tmp_path, strategy
):
    output = tmp_path / "to_label.csv"
    model = str(trained_project / "models/model")
    result = textclf(
        "select",
        "--input",
        str(pool),
        "--count",
        "12",
        "--output",
        str(output),
        "--model",
        model,
        "--strategy",
        strategy,
    )
    assert result.returncode == 0, result.stderr
    chosen = pd.read_csv(output, keep_default_na=False)
    assert chosen.columns.tolist() == [
        "label",
        "title",
        "description",
        "predicted",
        "probability",
        strategy,
    ]
    probabilities = predicted[[f"p_{name}" for name in CLASSES]].to_numpy()
    if strategy == "margin":
        expected_order = np.argsort(margins(predicted), kind="stable")[:12]
    else:
        clipped = np.clip(probabilities, 1e-12, 1)
        entropy = -(clipped * np.log(clipped)).sum(axis=1)
        expected_order = np.argsort(-entropy, kind="stable")[:12]
    expected = predicted.iloc[expected_order]
    # predict rounds its probabilities to 4 places: compare the sets of rows and the values
    assert set(chosen["title"] + chosen["description"]) == set(
        expected["title"] + expected["description"]
    )
    values = chosen[strategy].to_numpy()
    assert (np.diff(values) >= 0).all() if strategy == "margin" else (np.diff(values) <= 0).all()
    lookup = predicted.set_index(predicted["title"] + predicted["description"])
    for row in chosen.itertuples():
        match = lookup.loc[row.title + row.description]
        assert row.predicted == match["predicted"]
        assert row.probability == pytest.approx(match[f"p_{row.predicted}"], abs=2e-4)


@pytest.mark.pipeline
def test_diverse_selection_spreads_over_more_candidates(trained_project, pool, tmp_path):
    model = str(trained_project / "models/model")
    plain, diverse, top32 = tmp_path / "plain.csv", tmp_path / "diverse.csv", tmp_path / "32.csv"
    for output, extra in (
        (plain, ["--count", "8"]),
        (diverse, ["--count", "8", "--diverse", "--candidates", "4"]),
        (top32, ["--count", "32"]),
    ):
        select_in_process("--input", str(pool), "--output", str(output), "--model", model, *extra)
    plain_rows, diverse_rows = pd.read_csv(plain), pd.read_csv(diverse)
    assert len(diverse_rows) == 8 and diverse_rows["title"].is_unique
    assert (np.diff(diverse_rows["margin"]) >= 0).all()  # still most unsure first
    # chosen among the 32 most unsure, not only the 8 most unsure
    assert set(diverse_rows["title"]) <= set(pd.read_csv(top32)["title"])
    assert set(diverse_rows["title"]) != set(plain_rows["title"])


@pytest.mark.pipeline
def test_select_streams_a_pool_in_chunks(trained_project, tmp_path):
    """A JSON Lines pool of 25,000 rows goes through in chunks (the progress lines show them)."""
    rows = news_rows(25_000, seed=9)
    frame = pd.DataFrame({"text": [f"{title} {description}" for _, title, description in rows]})
    pool = tmp_path / "pool.jsonl"
    frame.to_json(pool, orient="records", lines=True)
    output = tmp_path / "out.csv"
    model = str(trained_project / "models/model")
    stderr = select_in_process(
        "--input",
        str(pool),
        "--count",
        "5",
        "--output",
        str(output),
        "--model",
        model,
        "--batch-size",
        "256",
    )
    progress = [line for line in stderr.splitlines() if line.endswith("rows scored")]
    assert progress[0] == "10000 rows scored" and progress[-1] == "25000 rows scored"
    assert len(pd.read_csv(output)) == 5


@pytest.mark.pipeline
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--count", "0"], "error: argument --count: must be a positive integer, got '0'"),
        (["--count", "3", "--input", "missing.csv"], "error: missing.csv: file not found"),
        (["--count", "3", "--output", "no/such/folder/out.csv"], "the folder no/such/folder"),
        (["--count", "3", "--strategy", "random"], "error: argument --strategy: invalid choice"),
    ],
)
def test_bad_select_arguments_are_one_line_and_write_nothing(
    trained_project, pool, tmp_path, monkeypatch, args, expected
):
    monkeypatch.chdir(tmp_path)
    arguments = ["--input", str(pool), "--model", str(trained_project / "models/model"), *args]
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exit_info:
        select.main(arguments)
    message = stderr.getvalue() if exit_info.value.code == 2 else str(exit_info.value.code)
    lines = [line for line in message.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0], message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.pipeline
@pytest.mark.parametrize("way", ["the same name", "a symlink", "a hard link"])
def test_select_refuses_an_output_that_is_its_input(trained_project, pool, tmp_path, way):
    own = tmp_path / "pool.csv"
    shutil.copy(pool, own)
    before = own.read_bytes()
    output = {"the same name": own, "a symlink": tmp_path / "link.csv"}.get(way, tmp_path / "h.csv")
    if way == "a symlink":
        output.symlink_to(own)
    elif way == "a hard link":
        os.link(own, output)
    model = str(trained_project / "models/model")
    with pytest.raises(SystemExit) as exit_info:
        select.main(
            ["--input", str(own), "--count", "3", "--model", model, "--output", str(output)]
        )
    assert str(exit_info.value.code).startswith(f"error: --output {output} is the --input file")
    assert own.read_bytes() == before


@pytest.mark.pipeline
def test_select_output_cells_never_run_as_formulas(trained_project, tmp_path):
    pool = tmp_path / "pool.csv"
    pd.DataFrame(
        {
            "text": ['=HYPERLINK("http://x","click")', "+1 oil", "@SUM(A1)", "-2% stocks"] * 2,
            "=cmd": ["a"] * 8,
        }
    ).to_csv(pool, index=False)
    output = tmp_path / "to_label.csv"
    model = str(trained_project / "models/model")
    select_in_process(
        "--input", str(pool), "--count", "8", "--model", model, "--output", str(output)
    )
    written = pd.read_csv(output)
    assert all(text.startswith("'") for text in written["text"])
    assert "'=cmd" in written.columns


@pytest.mark.pipeline
def test_pool_columns_named_like_select_s_are_replaced_and_said(trained_project, tmp_path):
    """An earlier select's output as the next pool: its `predicted`, `probability` and `margin`
    are replaced by this run's, and select says so (as predict does); a `_text` column stays."""
    pool = tmp_path / "pool.csv"
    texts = [f"{title} {description}" for _, title, description in news_rows(12, seed=3)]
    stale = ["stale"] * 12
    pd.DataFrame({"text": texts, "predicted": stale, "margin": [9.0] * 12, "_text": stale}).to_csv(
        pool, index=False
    )
    output = tmp_path / "next.csv"
    model = str(trained_project / "models/model")
    stderr = select_in_process(
        "--input", str(pool), "--count", "4", "--model", model, "--output", str(output)
    )
    assert f"{pool}: replacing its columns predicted, margin" in stderr
    chosen = pd.read_csv(output)
    assert list(chosen.columns) == ["text", "_text", "predicted", "probability", "margin"]
    assert set(chosen["predicted"]) <= set(CLASSES) and (chosen["margin"] < 9).all()
    assert (chosen["_text"] == "stale").all()


def test_a_json_lines_pool_whose_rows_bring_their_own_keys_is_read_in_bounded_memory(tmp_path):
    """Rows x distinct keys would make a 10,000-row chunk 10,000 columns wide (gigabytes):
    such a file comes in narrower chunks."""
    pool = tmp_path / "pool.jsonl"
    with pool.open("w") as file:
        for row in range(10_000):
            file.write(json.dumps({"text": f"row {row}", f"note_{row}": row}) + "\n")
    settings = CheckpointSettings(text_columns=["title", "description"])
    shapes = [t.frame.shape for t in input_chunks(str(pool), input_layout(str(pool), settings))]
    assert sum(rows for rows, _ in shapes) == 10_000
    # one chunk of the whole file would hold 10,000 x 10,001 cells (800 MB of float64 and more
    # as objects); each chunk stays near a million cells, whatever the file's shape
    assert max(rows * columns for rows, columns in shapes) <= 1_100_000, shapes
