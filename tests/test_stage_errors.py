"""Bad input fails early, in one line naming what to fix, and writes no output."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import stage_error
from fixtures import CLASSES, news_rows, write_news_csv
from ruamel.yaml import YAML
from transformers import BertConfig, BertModel

from textclf.stages import baseline, prepare, run, tokenize

ROOT = Path(__file__).resolve().parents[1]
GOOD_ROW = '"1","Title","Description"\n'


def write_params(folder: Path, **sections: dict) -> None:
    data = {"train_url": "news/train.csv", "test_url": "news/test.csv", "classes": CLASSES}
    params = {**sections, "data": {**data, **sections.get("data", {})}}
    yaml = YAML(typ="safe", pure=True)
    with (folder / "params.yaml").open("w") as file:
        yaml.dump(params, file)


def run_stage(module, folder: Path, monkeypatch) -> str:
    """Run a stage's main() in `folder`; return its one-line error."""
    monkeypatch.chdir(folder)
    with pytest.raises(SystemExit) as exit_info:
        run(module.main)
    message = str(exit_info.value.code)
    assert message.startswith("error: ") and "\n" not in message
    return message


@pytest.fixture
def raw_project(tmp_path) -> Path:
    write_params(tmp_path)
    write_news_csv(tmp_path / "data/raw/train.csv", news_rows(80, seed=0))
    write_news_csv(tmp_path / "data/raw/test.csv", news_rows(20, seed=1))
    return tmp_path


BAD_TEST_CSVS = {
    "missing file": (None, "data/raw/test.csv: file not found"),
    "wrong column count": (GOOD_ROW + '"2","only a title"\n', "test.csv:2: expected 3 columns"),
    "header row": ("label,title,description\n" + GOOD_ROW, "test.csv:1: label 'label' is not"),
    "non-integer label": (GOOD_ROW * 3 + '"two","a","b"\n', "test.csv:4: label 'two' is not an"),
    "label above range": (GOOD_ROW + '"5","a","b"\n', "test.csv:2: label 5 out of range 1..4"),
    "label zero": ('"0","a","b"\n', "test.csv:1: label 0 out of range 1..4"),
    "not utf-8": (
        GOOD_ROW.encode() + b'"1","caf\xe9","b"\n',
        "test.csv:2: bytes that are not UTF-8",
    ),
    "malformed quoting": (GOOD_ROW + '"1","a"x,"c"\n', "test.csv:2: malformed CSV"),
    "not utf-8 on the first row": (
        b'"1","caf\xe9","b"\n' + GOOD_ROW.encode(),
        "test.csv:1: bytes that are not UTF-8",
    ),
}


@pytest.mark.parametrize("case", BAD_TEST_CSVS, ids=list(BAD_TEST_CSVS))
def test_prepare_rejects_bad_csv_and_writes_nothing(raw_project, monkeypatch, case):
    content, expected = BAD_TEST_CSVS[case]
    path = raw_project / "data/raw/test.csv"
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert expected in run_stage(prepare, raw_project, monkeypatch)
    assert not (raw_project / "data/prepared").exists()
    assert not (raw_project / "metrics").exists()


def test_prepare_drops_and_counts_rows_with_empty_text(raw_project, monkeypatch):
    rows = news_rows(80, seed=0) + [(2, "", ""), (3, " ", "  ")]
    write_news_csv(raw_project / "data/raw/train.csv", rows)
    monkeypatch.chdir(raw_project)
    prepare.main()
    report = json.loads((raw_project / "metrics/data.json").read_text())
    assert report["dropped"] == {"train_empty_text": 2, "test_empty_text": 0}
    assert report["rows"]["train"] + report["rows"]["validation"] == 80
    assert report["rows_per_class"]["test"] == {name: 5 for name in CLASSES}


def test_bad_params_stop_a_stage_before_any_work(raw_project, monkeypatch):
    write_params(raw_project, prepare={"validation_sise": 0.2})
    message = run_stage(prepare, raw_project, monkeypatch)
    assert "unknown key prepare.validation_sise" in message
    assert not (raw_project / "data/prepared").exists()


@pytest.fixture
def prepared_project(raw_project, monkeypatch) -> Path:
    monkeypatch.chdir(raw_project)
    prepare.main()
    return raw_project


def test_tokenize_rejects_max_length_beyond_the_model(prepared_project, tiny_bert, monkeypatch):
    write_params(prepared_project, model={"name": str(tiny_bert)}, tokenize={"max_length": 512})
    message = run_stage(tokenize, prepared_project, monkeypatch)
    assert "tokenize.max_length must be <= 128 for this model, got 512" in message
    assert not (prepared_project / "data/tokenized").exists()
    write_params(prepared_project, model={"name": str(tiny_bert)}, tokenize={"max_length": 2})
    message = run_stage(tokenize, prepared_project, monkeypatch)
    assert message.startswith("error: params.yaml:")
    assert "tokenize.max_length must be >= 3 for this model (its special tokens" in message
    assert not (prepared_project / "data/tokenized").exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("./no/such/model", "is neither an existing local directory nor a hub id"),
        ("bad name!", "is neither an existing local directory nor a hub id"),
    ],
)
def test_tokenize_rejects_bad_model_names(prepared_project, monkeypatch, name, expected):
    write_params(prepared_project, model={"name": name})
    assert expected in run_stage(tokenize, prepared_project, monkeypatch)
    assert not (prepared_project / "data/tokenized").exists()


def test_pickled_weights_are_refused(prepared_project, monkeypatch, tiny_bert):
    from textclf.config.errors import ParamsError
    from textclf.modeling.loading import load_model_for_training

    folder = prepared_project / "pickled-model"
    config = BertConfig(
        vocab_size=50,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=8,
    )
    config.save_pretrained(folder)
    torch.save(BertModel(config).state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ParamsError, match="cannot be loaded: .*model.safetensors"):
        load_model_for_training(str(folder), CLASSES)


def test_stage_error_is_one_line_on_stderr(raw_project):
    (raw_project / "data/raw/train.csv").write_text('"9","a","b"\n')
    assert stage_error("prepare", raw_project) == (
        "error: news/train.csv:1: label 9 out of range 1..4 (data.classes lists 4 classes, "
        "data.label_offset is 1)"
    )


PARAMS_TEXT = """data:
  train_url: x
  test_url: y
  classes: [World, Sports, Business, Sci/Tech]
train:
  learning_rate: 5.0e-05
  weight_decay: 0.01
  processes: 1
"""
BOMB = "data:\n  a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)
BAD_PARAMS = {
    "inf learning rate": (
        ("learning_rate: 5.0e-05", "learning_rate: .inf"),
        "error: params.yaml:6: train.learning_rate must be a finite number, got inf",
    ),
    "nan weight decay": (
        ("weight_decay: 0.01", "weight_decay: .nan"),
        "error: params.yaml:7: train.weight_decay must be a finite number, got nan",
    ),
    "shell in processes": (
        ("processes: 1", "processes: '1; touch hacked; #'"),
        "error: params.yaml:8: train.processes must be int, got '1; touch hacked; #'",
    ),
    "fractional processes": (
        ("processes: 1", "processes: 1.5"),
        "error: params.yaml:8: train.processes must be int, got 1.5",
    ),
    "duplicate key": (
        ("processes: 1", "processes: 1\n  processes: 2"),
        'error: params.yaml:9: found duplicate key "processes"',
    ),
    "yaml syntax": (
        ("processes: 1", "processes: [1"),
        "error: params.yaml:9: expected ',' or ']'",
    ),
    "alias bomb": (
        # in the model section: the train stage reads only its own sections
        ("train:\n", BOMB.replace("data:", "model:", 1) + "train:\n"),
        "error: params.yaml:",
    ),
}


@pytest.mark.parametrize("case", BAD_PARAMS, ids=list(BAD_PARAMS))
def test_bad_params_file_gives_one_line_naming_file_line_and_key(tmp_path, case):
    (old, new), expected = BAD_PARAMS[case]
    (tmp_path / "params.yaml").write_text(PARAMS_TEXT.replace(old, new))
    message = stage_error("train", tmp_path)  # the launcher: never runs torchrun or a shell
    assert message.startswith(expected), message
    assert len(message) < 300
    assert sorted(path.name for path in tmp_path.iterdir()) == ["params.yaml"]


BAD_LABELS = {
    "double minus": ("--1", "label '--1' is not an integer or a class in data.classes"),
    "superscript": ("²", "label '²' is not an integer or a class in data.classes"),
    "arabic-indic digit": ("٣", "label '٣' is not an integer or a class in data.classes"),
    "empty": ("", "empty label"),
}


@pytest.mark.parametrize("case", BAD_LABELS, ids=list(BAD_LABELS))
def test_labels_must_be_ascii_integers_or_class_names(raw_project, case):
    label, expected = BAD_LABELS[case]
    (raw_project / "data/raw/test.csv").write_text(GOOD_ROW + f'"{label}","a","b"\n')
    assert stage_error("prepare", raw_project).startswith(f"error: news/test.csv:2: {expected}")
    assert not (raw_project / "data/prepared").exists()


GOOD_CSV_SHAPES = {
    "byte-order mark": "\ufeff" + GOOD_ROW * 20,
    "trailing blank line": GOOD_ROW * 20 + "\n",
    "field over 128 KiB": GOOD_ROW * 19 + f'"2","{"x" * 200_000}","b"\n',
}


@pytest.mark.parametrize("case", GOOD_CSV_SHAPES, ids=list(GOOD_CSV_SHAPES))
def test_ordinary_csv_shapes_are_accepted(raw_project, monkeypatch, case):
    (raw_project / "data/raw/test.csv").write_text(GOOD_CSV_SHAPES[case], encoding="utf-8")
    monkeypatch.chdir(raw_project)
    prepare.main()
    assert json.loads((raw_project / "metrics/data.json").read_text())["rows"]["test"] == 20


def test_temporaries_of_killed_stages_are_removed_by_the_next_run(raw_project, monkeypatch):
    stale = raw_project / "data/.prepared.tmp-999999999-abcd_123"  # no such process
    (stale / "part").mkdir(parents=True)
    live = raw_project / f"data/.prepared.tmp-{os.getpid()}-defg4567"  # a run still going
    live.mkdir()
    # a user's files that only look alike: never a stage's to delete
    users = [raw_project / "data" / name for name in (".prepared.tmp-notes", ".prepared.tmp-1-x")]
    for path in users:
        path.write_text("mine")
    monkeypatch.chdir(raw_project)
    prepare.main()
    assert not stale.exists() and live.exists()
    assert all(path.read_text() == "mine" for path in users)
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", str(stale.relative_to(raw_project))],
        cwd=ROOT,
    )
    assert ignored.returncode == 0, "git must ignore stage temporaries"


def test_a_min_df_above_what_the_rows_allow_is_one_line(prepared_project, monkeypatch):
    write_params(prepared_project, baseline={"min_df": 100_000})
    message = run_stage(baseline, prepared_project, monkeypatch)
    assert message.startswith("error: params.yaml:")
    assert "baseline.min_df leaves no n-gram in the" in message
    assert message.endswith("texts the baseline is fitted on: lower it")
    assert not (prepared_project / "metrics/baseline").exists()


def test_model_directory_without_weights_is_one_line(prepared_project, tiny_bert, monkeypatch):
    folder = prepared_project / "no-weights"
    shutil.copytree(tiny_bert, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    from textclf.config.errors import ParamsError
    from textclf.modeling.loading import CheckpointError, load_classifier, load_model_for_training

    with pytest.raises(ParamsError, match="cannot be loaded: .*model.safetensors"):
        load_model_for_training(str(folder), CLASSES)
    with pytest.raises(CheckpointError, match="no-weights: incomplete checkpoint"):
        load_classifier(folder)


def own_data_project(folder: Path, files: dict[str, str], **data: object) -> Path:
    """data/raw/ as the download stage leaves it, and params naming the user's files."""
    for name, content in files.items():
        (folder / "data/raw").mkdir(parents=True, exist_ok=True)
        (folder / "data/raw" / name).write_text(content, encoding="utf-8")
    defaults = {"train_url": "mine/train.jsonl", "test_url": "mine/test.jsonl", "classes": None}
    write_params(folder, data={**defaults, **data})
    return folder


TRAIN_JSONL = "".join(
    json.dumps({"subject": f"s{i}", "body": "b", "category": ["billing", "bug"][i % 2]}) + "\n"
    for i in range(20)
)
EXTRA_CLASS = '{"subject": "x", "category": "x"}\n'
OWN_DATA_ERRORS = {
    "missing column": (
        {"train.jsonl": TRAIN_JSONL, "test.jsonl": '{"subject": "x", "category": "bug"}\n'},
        {"text_columns": ["subject", "body"], "label_column": "category"},
        "error: mine/test.jsonl: no column 'body' (the file has: subject, category)",
    ),
    "label not in data.classes": (
        {"train.jsonl": TRAIN_JSONL, "test.jsonl": TRAIN_JSONL},
        {"text_columns": ["subject"], "label_column": "category", "classes": ["billing", "x"]},
        "error: mine/train.jsonl:2: label 'bug' is not an integer or a class in data.classes",
    ),
    "empty label": (
        {
            "train.jsonl": TRAIN_JSONL + '{"subject": "x", "body": "y", "category": " "}\n',
            "test.jsonl": TRAIN_JSONL,
        },
        {"text_columns": ["subject"], "label_column": "category"},
        "error: mine/train.jsonl:21: empty label",
    ),
    "test label never trained": (
        {
            "train.jsonl": TRAIN_JSONL,
            "test.jsonl": TRAIN_JSONL + '{"subject": "x", "category": "refund"}\n',
        },
        {"text_columns": ["subject"], "label_column": "category", "classes": None},
        "error: mine/test.jsonl:21: label 'refund' never occurs in the train split",
    ),
    "class never in train": (
        {
            "train.jsonl": TRAIN_JSONL,
            "test.jsonl": TRAIN_JSONL + '{"subject": "x", "category": "x"}\n',
        },
        {
            "text_columns": ["subject"],
            "label_column": "category",
            "classes": ["billing", "bug", "x"],
        },
        "error: mine/test.jsonl:21: label 'x' never occurs in the train split",
    ),
    "unknown format": (
        {},
        {"train_url": "mine/train.txt"},
        "error: mine/train.txt: unknown format",
    ),
    "header-less without data.columns": (
        {"train.csv": "a,1\n", "test.csv": "b,0\n"},
        {"train_url": "t/train.csv", "test_url": "t/test.csv", "columns": None},
        "data.columns must name the columns of a header-less file (or set data.header: true)",
    ),
    "lone surrogate": (
        {
            "train.jsonl": TRAIN_JSONL[:200].rsplit("\n", 1)[0]
            + '\n{"subject": "bad \\ud800 here", "body": "b", "category": "bug"}\n'
            + TRAIN_JSONL,
            "test.jsonl": TRAIN_JSONL,
        },
        {"text_columns": ["subject", "body"], "label_column": "category"},
        "error: mine/train.jsonl:",
    ),
}


@pytest.mark.parametrize("case", OWN_DATA_ERRORS, ids=list(OWN_DATA_ERRORS))
def test_own_data_errors_name_the_users_file_and_line(tmp_path, case):
    files, data, expected = OWN_DATA_ERRORS[case]
    project = own_data_project(tmp_path, files, **data)
    message = stage_error("prepare", project)
    assert message.startswith("error: ") and expected in message, message
    if case == "lone surrogate":
        assert re.search(r"train\.jsonl:\d+: key 'subject' holds a lone surrogate", message)
    assert not (project / "data/prepared").exists()
    assert not (project / "metrics").exists()


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("World|Cricket", "test.csv:2: label 'Cricket' is not an integer or a class"),
        ("1|9", "test.csv:2: label 9 out of range 1..4"),
        ("World||Sports", "test.csv:2: empty label"),
    ],
)
def test_multi_label_bad_label_in_a_set_names_file_and_line(
    raw_project, monkeypatch, cell, message
):
    write_params(raw_project, data={"multi_label": True})
    rows = [(1, "a", "b"), (cell, "c", "d")]
    write_news_csv(raw_project / "data/raw/test.csv", rows)
    assert message in run_stage(prepare, raw_project, monkeypatch)
    assert not (raw_project / "data/prepared").exists()


def test_multi_label_sets_are_prepared_as_sorted_class_ids(raw_project, monkeypatch):
    write_params(raw_project, data={"multi_label": True})
    rows = [("Sports|World", "t", "d"), ("", "t", "d"), ("3", "t", "d")]
    write_news_csv(raw_project / "data/raw/test.csv", rows)
    monkeypatch.chdir(raw_project)
    prepare.main()
    test = pd.read_parquet(raw_project / "data/prepared/test.parquet")
    assert [list(labels) for labels in test["label"]] == [[0, 1], [], [2]]
    report = json.loads((raw_project / "metrics/data.json").read_text())
    assert report["rows_per_class"]["test"] == {"World": 1, "Sports": 1, "Business": 1}


def test_a_single_label_list_hints_at_multi_label(tmp_path, monkeypatch):
    write_params(
        tmp_path,
        data={
            "train_url": "news/train.jsonl",
            "test_url": "news/test.jsonl",
            "text_columns": ["text"],
        },
    )
    lines = [
        json.dumps({"text": f"t{i}", "label": ["World"] if i == 3 else "Sports"}) for i in range(5)
    ]
    for split in ("train", "test"):
        path = tmp_path / f"data/raw/{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    message = run_stage(prepare, tmp_path, monkeypatch)
    assert "train.jsonl:4: label ['World'] is a list: set data.multi_label: true" in message


def test_best_metric_of_the_other_task_stops_train_before_training(
    prepared_project, tiny_bert, monkeypatch
):
    from textclf.stages import train

    write_params(prepared_project, model={"name": str(tiny_bert)}, tokenize={"max_length": 32})
    run(tokenize.main)
    write_params(
        prepared_project,
        model={"name": str(tiny_bert)},
        tokenize={"max_length": 32},
        train={"best_metric": "f1_micro", "load_best": True},
    )
    message = run_stage(train, prepared_project, monkeypatch)
    line = next(
        number
        for number, text in enumerate(
            (prepared_project / "params.yaml").read_text().splitlines(), 1
        )
        if "best_metric" in text
    )
    assert message == (
        f"error: params.yaml:{line}: train.best_metric 'f1_micro' is not a single-label "
        "validation metric (loss, accuracy, f1_macro)"
    )
    assert not (prepared_project / "models").exists()  # not even a checkpoint fingerprint


def test_a_misspelled_tracker_stops_train_before_training(prepared_project, tiny_bert, monkeypatch):
    from textclf.stages import train

    write_params(prepared_project, model={"name": str(tiny_bert)}, tokenize={"max_length": 32})
    run(tokenize.main)
    write_params(
        prepared_project,
        model={"name": str(tiny_bert)},
        tokenize={"max_length": 32},
        train={"report_to": ["dvclive", "tensorbord"]},
    )
    message = run_stage(train, prepared_project, monkeypatch)
    assert re.fullmatch(
        r"error: params.yaml:\d+: train.report_to: 'tensorbord' is not a tracker installed here "
        r"\(installed: dvclive, .*tensorboard.*\); check the spelling, or pip install it",
        message,
    ), message
    assert not (prepared_project / "models").exists()


def test_multi_label_lists_in_json_lines(tmp_path, monkeypatch):
    write_params(
        tmp_path,
        data={
            "train_url": "tags/train.jsonl",
            "test_url": "tags/test.jsonl",
            "text_columns": ["text"],
            "label_column": "tags",
            "classes": None,
            "multi_label": True,
        },
    )
    tags = [["b", "a"], [], ["c"], ["a"], ["b", "c"], ["a", "c"]] * 3
    lines = [json.dumps({"text": f"t{i}", "tags": t}) for i, t in enumerate(tags)]
    for split in ("train", "test"):
        path = tmp_path / f"data/raw/{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    prepare.main()
    test = pd.read_parquet(tmp_path / "data/prepared/test.parquet")
    assert [list(ids) for ids in test["label"][:3]] == [[0, 1], [], [2]]
    schema = json.loads((tmp_path / "data/prepared/schema.json").read_text())
    assert (schema["classes"], schema["multi_label"]) == (["a", "b", "c"], True)


def test_a_parquet_file_with_a_repeated_column_is_one_line(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays(
        [pa.array(["a", "b"]), pa.array(["c", "d"]), pa.array(["x", "y"])],
        names=["text", "text", "label"],
    )
    project = own_data_project(tmp_path, {}, train_url="mine/train.parquet")
    (project / "data/raw").mkdir(parents=True)
    pq.write_table(table, project / "data/raw/train.parquet")
    message = stage_error("prepare", project)
    assert message == "error: mine/train.parquet: the column 'text' appears more than once"


def test_params_changed_while_training_stop_train_before_it_writes(
    prepared_project, tiny_bert, monkeypatch
):
    """A second `dvc exp run` writes its -S values into params.yaml while the first trains:
    the first must not record its model under them."""
    settings = {"model": {"name": str(tiny_bert)}, "tokenize": {"max_length": 32}}
    train = {"epochs": 6, "batch_size": 8, "min_steps": 0, "report_to": [], "seed": 42}
    write_params(prepared_project, **settings, train=train)
    run(tokenize.main)
    worker = subprocess.Popen(
        [sys.executable, "-m", "textclf.stages.train"],
        cwd=prepared_project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    for line in worker.stdout:
        if line.startswith("Training "):
            break
    write_params(prepared_project, **settings, train={**train, "seed": 43})
    _, stderr = worker.communicate(timeout=600)
    assert worker.returncode == 1
    assert stderr.strip().splitlines()[-1] == (
        "error: params.yaml changed while training (train.seed 42 -> 43): this run trained "
        "with the old value, so nothing is written; run experiments one at a time "
        "(dvc exp run --queue, or --temp)"
    )
    assert not (prepared_project / "models/trained").exists()
    assert not (prepared_project / "metrics/train.json").exists()
