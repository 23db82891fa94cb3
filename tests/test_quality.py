"""The quality stage: injected label flips rank first, conflicting duplicates and train/test
near-duplicates are found and point at their raw lines, the outputs are byte-deterministic
and come back from DVC's run-cache, bad params are one line."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import (
    digests,
    fixture_params,
    make_project,
    repro,
    run,
    stage_error,
    stages_run,
    update_params,
)
from fixtures import CLASSES, news_rows, write_news_csv

from textclf.quality.duplicates import near_duplicates, normalise
from textclf.quality.label_issues import find_issues
from textclf.quality.report import length_counts
from textclf.quality.sample import checked_rows

FLIPS = 24  # of 480 train rows: 5%
LEAKED = [3, 10, 17, 40, 77]  # train rows copied into the test file, case and punctuation changed


@pytest.fixture(scope="module")
def noisy(tmp_path_factory) -> dict:
    """Train rows with labels flipped at random, a conflicting duplicate, test rows that leak
    train rows; the raw lines of each."""
    folder = tmp_path_factory.mktemp("noisy")
    rows = news_rows(480, seed=0)
    rng = random.Random(5)
    flipped = sorted(rng.sample(range(len(rows)), FLIPS))
    for index in flipped:
        label, title, description = rows[index]
        other = rng.choice([c for c in range(1, 5) if c != label])
        rows[index] = (other, title, description)
    clean = [i for i in range(len(rows)) if i not in flipped]
    conflicts = []
    for index in clean[:6]:  # the same text again with another label
        label, title, description = rows[index]
        title = f"=SUM(1) {title}"  # and a cell a spreadsheet would run
        rows[index] = (label, title, description)
        rows.append((label % 4 + 1, title, description))
        conflicts.append((len(rows), index + 1))
    test = news_rows(120, seed=1)
    for index in LEAKED:
        label, title, description = rows[clean[index + 6]]
        test.append((label, title.upper(), description.replace(",", " ;") + "!!"))
    return {
        "train": write_news_csv(folder / "train.csv", rows),
        "test": write_news_csv(folder / "test.csv", test),
        "flipped_lines": {index + 1 for index in flipped},
        "conflicts": conflicts,  # (line of the copy, line of the original)
        "leaked_lines": [clean[index + 6] + 1 for index in LEAKED],
        "leaked_test_lines": list(range(121, 121 + len(LEAKED))),
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory, noisy, tiny_bert):
    params = fixture_params({"train": noisy["train"], "test": noisy["test"]}, tiny_bert)
    folder = make_project(tmp_path_factory.mktemp("quality") / "repo", params)
    assert repro(folder, "quality") == {
        "code",
        "download",
        "prepare",
        "tokenize",
        "quality_folds",
        "quality",
    }
    return folder


def line_of(source: str) -> int:
    return int(source.rsplit(":", 1)[1])


@pytest.mark.pipeline
def test_injected_label_flips_rank_first(project, noisy):
    issues = pd.read_csv(project / "metrics/quality/label_issues.csv")
    assert issues.columns.tolist() == ["text", "label", "suggested", "score", "source"]
    train = pd.read_parquet(project / "data/prepared/train.parquet")
    flips = noisy["flipped_lines"] & set(train["position"])
    top = [line_of(source) for source in issues["source"][: len(flips)]]
    precision = sum(line in flips for line in top) / len(flips)
    assert precision >= 0.7, (precision, issues.head(10))
    assert issues["score"].is_monotonic_increasing  # most suspect first
    assert issues["source"].str.startswith(str(noisy["train"])).all()
    # a flipped row's suggestion is its real label, read back from the raw line
    raw = pd.read_csv(noisy["train"], header=None, names=["label", "title", "description"])
    clean = news_rows(480, seed=0)
    hits = [
        (row, line_of(row.source)) for row in issues.itertuples() if line_of(row.source) in flips
    ]
    for row, line in hits:
        assert row.label == CLASSES[raw["label"][line - 1] - 1]
    assert np.mean([row.suggested == CLASSES[clean[line - 1][0] - 1] for row, line in hits]) > 0.9
    report = json.loads((project / "metrics/quality.json").read_text())
    assert 0.02 <= report["label_error_rate"] <= 0.15, report
    assert report["label_issues"] == len(issues)
    assert sum(report["label_issues_by_pair"].values()) == len(issues)
    assert (project / "metrics/quality/label_issues.png").stat().st_size > 1000
    shown = json.loads(
        run(["dvc", "metrics", "show", "--json", "metrics/quality.json"], project).stdout
    )
    metrics = next(iter(shown.values()))["data"]["metrics/quality.json"]["data"]
    assert metrics["label_error_rate"] == report["label_error_rate"]


@pytest.mark.pipeline
def test_conflicting_duplicates_and_leaked_test_rows_are_found(project, noisy):
    duplicates = pd.read_csv(project / "metrics/quality/duplicates.csv")
    conflicting = duplicates[duplicates["kind"] == "conflicting"]
    train = pd.read_parquet(project / "data/prepared/train.parquet")
    kept = set(train["position"])
    expected = {pair for pair in noisy["conflicts"] if set(pair) <= kept}
    found = {
        (line_of(a), line_of(b))
        for a, b in zip(conflicting["source"], conflicting["train_source"], strict=True)
    }
    assert expected and found == expected, (expected, found)
    near = duplicates[duplicates["kind"] == "near_duplicate"]
    in_train = [line in kept for line in noisy["leaked_lines"]]
    expected = {
        (test_line, train_line)
        for test_line, train_line, kept in zip(
            noisy["leaked_test_lines"], noisy["leaked_lines"], in_train, strict=True
        )
        if kept
    }
    leaked = near[near["split"] == "test"]
    found = {
        (line_of(a), line_of(b))
        for a, b in zip(leaked["source"], leaked["train_source"], strict=True)
    }
    assert expected and expected <= found, (expected, found)
    assert (leaked["similarity"] == 1.0).all()  # equal once case and punctuation are gone
    # files for people: a text a spreadsheet would run is written with a leading apostrophe
    assert conflicting["text"].str.startswith("'=SUM(1) ").all()
    issues = pd.read_csv(project / "metrics/quality/label_issues.csv")
    for frame in (duplicates, issues):
        cells = frame.select_dtypes(object).stack()
        assert not cells.str.startswith(("=", "+", "@", "\t")).any()
    report = json.loads((project / "metrics/quality.json").read_text())
    assert report["duplicates"]["test_near_train"] == len(leaked)
    assert report["duplicates"]["train_conflicting_groups"] == len(conflicting)
    assert report["duplicates"]["train_conflicting_rows"] == 2 * len(conflicting)


@pytest.mark.pipeline
def test_outputs_are_byte_deterministic_and_restored_from_the_run_cache(project):
    before = digests(project / "metrics")
    assert repro(project, "--force", "--single-item", "quality") == {"quality"}
    assert digests(project / "metrics") == before
    update_params(project, {"quality": {"seed": 1}})
    assert "quality" in repro(project, "quality")
    assert digests(project / "metrics") != before
    update_params(project, {"quality": {"seed": 0}})
    output = run(["dvc", "repro", "quality"], project).stdout
    assert "Stage 'quality' is cached - skipping run" in output
    assert digests(project / "metrics") == before


@pytest.mark.pipeline
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"folds": 1}, "quality.folds must be >= 2, got 1"),
        ({"model": "bert"}, "quality.model must be one of baseline, transformer"),
        ({"near_duplicate_similarity": 1.5}, "quality.near_duplicate_similarity must be in"),
        ({"folds": 115}, "quality.folds (115) is more than the train rows of class"),
    ],
)
def test_bad_quality_params_are_one_line_and_write_nothing(project, overrides, expected):
    update_params(project, {"quality": {"seed": 0, "folds": 5, "model": "baseline", **overrides}})
    run(["dvc", "remove", "--outs", "quality"], project, check=False)
    try:
        for path in ("metrics/quality.json",):
            (project / path).unlink(missing_ok=True)
        message = stage_error("quality", project)
        assert message.startswith("error: params.yaml:"), message
        assert expected in message, message
        assert not (project / "metrics/quality.json").exists()
    finally:
        run(["git", "checkout", "params.yaml", "dvc.yaml"], project)


def test_multi_label_issues_flag_a_missing_tag():
    rng = np.random.default_rng(0)
    labels = [[row % 3] for row in range(300)]
    probabilities = np.full((300, 3), 0.05)
    for row, label in enumerate(labels):
        probabilities[row, label[0]] = 0.9 + rng.uniform(0, 0.05)
    labels[7] = [(7 % 3 + 1) % 3]  # tagged with a label its text does not carry
    issues = find_issues(labels, probabilities, multi_label=True)
    assert issues.flagged[0] == 7
    assert issues.suggested[7] == [7 % 3]


@pytest.mark.pipeline
@pytest.mark.training
def test_transformer_folds_fine_tune_per_fold_and_resume_after_a_kill(tmp_path, noisy, tiny_bert):
    params = fixture_params({"train": noisy["train"], "test": noisy["test"]}, tiny_bert)
    params["quality"] = {"model": "transformer", "folds": 2}
    params["train"]["epochs"] = 8  # a fold learns the fixture topics from 240 noisy rows
    project = make_project(tmp_path / "repo", params)
    assert repro(project, "tokenize") == {"code", "download", "prepare", "tokenize"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "textclf.stages.quality_folds"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in worker.stdout:
        if line.startswith("Fold 1/2"):
            worker.kill()  # as a machine that goes away would
            break
    worker.wait()
    assert len(list((project / "models/quality-folds").glob("fold-*.parquet"))) == 1
    output = run(["dvc", "repro", "quality"], project).stdout
    assert {"quality_folds", "quality"} <= stages_run(output)
    assert "this fold was finished by an earlier run" in output
    assert not (project / "models/quality-folds").exists()
    probabilities = pd.read_parquet(project / "data/quality/out_of_fold.parquet")
    train = pd.read_parquet(project / "data/prepared/train.parquet")
    assert probabilities.shape == (len(train), len(CLASSES))
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    report = json.loads((project / "metrics/quality.json").read_text())
    assert report["model"] == "transformer"
    assert report["out_of_fold_accuracy"] > 0.5  # the tiny model learns the fixture topics
    issues = pd.read_csv(project / "metrics/quality/label_issues.csv")
    assert len(issues) == report["label_issues"] > 0


def test_text_lengths_are_the_real_minimum_and_rounded():
    texts = ["one two three", "one", "a b c d e f g h i j k"]
    words = length_counts(texts, short_words=3, long_words=10)
    assert words["words"] == {"min": 1, "median": 3.0, "p99": 10.8, "max": 11}
    assert words["under_3_words"] == 1 and words["over_10_words"] == 1
    empty = length_counts([], short_words=3, long_words=10)["words"]
    assert empty == {"min": 0, "median": 0.0, "p99": 0.0, "max": 0}


def test_symbols_make_texts_different_and_punctuation_alone_does_not():
    """Normalisation drops case, whitespace and punctuation, not what carries meaning:
    "C++" and "C#", "$5" and "5%", two different emoji stay different texts."""
    different = [("C++ rocks", "C# rocks"), ("$5", "5%"), ("😀", "😢"), ("!!!", "???")]
    for a, b in different:
        assert normalise(a) != normalise(b), (a, b)
        assert near_duplicates([a], [b], 0.8) == []
    assert normalise("Sports:  Stocks RISE!") == normalise("sports stocks rise")
    leaked = near_duplicates(["Stocks rise, again."], ["stocks RISE again"], 0.8)
    assert [(n.row, n.train_row, n.similarity) for n in leaked] == [(0, 0, 1.0)]
    assert length_counts(["!!!", "C++ rocks"], 1, 10)["no_words"] == 1


@pytest.mark.parametrize("similarity", [0.99, 1.0])
def test_a_similarity_threshold_near_one_finds_only_the_near_equal(similarity):
    """Inside the documented range (0, 1]: datasketch cannot band above ~0.98, so candidates
    come from a lower threshold and each is checked against the one asked for."""
    train = ["the markets rallied on friday after the central bank held rates steady"]
    others = [
        "The markets rallied on Friday after the central bank held rates steady!",
        "the markets rallied on monday after the central bank held rates steady",
    ]
    found = near_duplicates(train, others, similarity)
    assert [near.row for near in found] == [0]


@pytest.mark.pipeline
def test_a_split_over_max_rows_is_checked_on_a_seeded_sample(project, tmp_path):
    """quality.max_rows bounds what the stage holds: it checks that many rows per split, says
    so in quality.json, and the same seed checks the same rows."""
    copy = tmp_path / "repo"
    shutil.copytree(project, copy, symlinks=True)
    update_params(copy, {"quality": {"max_rows": 100}})
    assert repro(copy, "quality") == {"quality"}
    report = json.loads((copy / "metrics/quality.json").read_text())
    train_rows = len(pd.read_parquet(copy / "data/prepared/train.parquet"))
    assert report["rows"]["train"] == report["train_rows"] == train_rows > 100
    assert report["rows_checked"]["train"] == 100
    issues = pd.read_csv(copy / "metrics/quality/label_issues.csv")
    assert len(issues) <= 100
    first = digests(copy / "metrics/quality")
    run(["dvc", "repro", "-f", "quality"], copy)
    assert digests(copy / "metrics/quality") == first


def test_the_sample_is_read_in_bounded_memory(tmp_path):
    """Reading a 1,000-row sample of a 200,000-row split holds a batch at a time: its peak
    resident memory is far below that of reading the split whole."""
    path = tmp_path / "train.parquet"
    rows = 200_000  # about 200 MB of text

    def text(i: int) -> str:
        return f"row {i} " + "word " * 200

    pq.write_table(
        pa.table({"text": [text(i) for i in range(rows)], "label": [0] * rows}),
        path,
        row_group_size=20_000,
    )

    def peak_rss_mb(max_rows: int | None) -> float:
        script = (  # VmHWM: this process's peak resident memory (ru_maxrss counts the fork's)
            "import re, sys; from textclf.quality.sample import checked_rows; "
            f"checked = checked_rows(sys.argv[1], {max_rows}, 0); "
            "status = open('/proc/self/status').read(); "
            "print(len(checked.frame), re.search(r'VmHWM:\\s+(\\d+)', status).group(1))"
        )
        result = run([sys.executable, "-c", script, str(path)], tmp_path)
        kept, peak_kb = map(int, result.stdout.split())
        assert kept == (max_rows or rows)
        return peak_kb / 1024

    assert peak_rss_mb(1000) < peak_rss_mb(None) - 100
    checked = checked_rows(path, 1000, seed=0)
    assert checked.total == rows
    assert checked.frame["text"].tolist() == [text(i) for i in checked.rows.tolist()]
