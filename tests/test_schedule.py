"""`train.min_steps`: small data gets whole epochs added up to the minimum, with the best epoch
kept; large data (AG News) keeps the notebook's epochs; 0 or null turns it off."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import copy_project, run

from textclf.config.train_params import TrainParams
from textclf.train.schedule import plan, scheduled_params, steps_per_epoch

NOTEBOOK = TrainParams(epochs=2, batch_size=24, min_steps=300)


def test_ag_news_keeps_the_notebooks_two_epochs_and_9000_steps():
    schedule = plan(NOTEBOOK, rows=108_000)
    assert (schedule.epochs, schedule.steps, schedule.epochs_added) == (2, 9000, 0)
    assert scheduled_params(NOTEBOOK, schedule) == NOTEBOOK  # load_best not switched on


def test_400_rows_get_whole_epochs_up_to_the_minimum_and_the_best_epoch_kept():
    schedule = plan(NOTEBOOK, rows=400)
    assert schedule.steps_per_epoch == 17  # ceil(400 / 24)
    assert schedule.epochs == 18 and schedule.steps == 306 >= 300
    assert schedule.epochs_added == 16
    assert "under train.min_steps 300" in schedule.reason
    effective = scheduled_params(NOTEBOOK, schedule)
    assert effective.epochs == 18 and effective.load_best


@pytest.mark.parametrize("off", [0, None])
def test_zero_or_null_is_exactly_the_epochs_given(off):
    train = replace(NOTEBOOK, min_steps=off)
    schedule = plan(train, rows=400)
    assert (schedule.epochs, schedule.steps, schedule.epochs_added) == (2, 34, 0)
    assert scheduled_params(train, schedule) == train


def test_max_steps_decides_over_min_steps_and_processes_share_the_rows():
    assert plan(replace(NOTEBOOK, max_steps=20), rows=400).steps == 20
    assert steps_per_epoch(401, 24, world_size=2) == 9  # 201 rows a process
    assert plan(NOTEBOOK, rows=400, world_size=2).epochs == 34  # 9 steps an epoch


@pytest.mark.pipeline
def test_the_train_stage_adds_epochs_and_keeps_the_best(tmp_path, trained_project):
    project = copy_project(trained_project, tmp_path / "repo")
    # 432 train rows in batches of 16: 27 steps an epoch; 1 epoch is under 60 steps
    settings = ["-S", "train.epochs=1", "-S", "train.min_steps=60"]
    output = run(["dvc", "exp", "run", *settings, "train"], project).stdout
    assert "Training 3 epochs, 81 steps" in output
    metrics = json.loads((project / "metrics/train.json").read_text())
    schedule = metrics["schedule"]
    assert schedule["epochs_planned"] == 1 and schedule["epochs"] == 3
    assert schedule["epochs_added"] == 2 and schedule["steps_per_epoch"] == 27
    assert "under train.min_steps 60" in schedule["reason"]
    assert metrics["epochs_run"] == 3
    losses = {int(name.split("_")[1]): e["eval_loss"] for name, e in metrics["epochs"].items()}
    assert metrics["kept_epoch"] == min(losses, key=losses.get)
    assert metrics["eval_loss"] == min(losses.values())

    # enough steps already: no epoch added, the last epoch kept
    run(["dvc", "exp", "run", "-S", "train.epochs=1", "-S", "train.min_steps=20", "train"], project)
    metrics = json.loads((project / "metrics/train.json").read_text())
    assert metrics["schedule"]["epochs_added"] == 0 and metrics["epochs_run"] == 1


def test_the_docs_example_is_what_the_train_stage_writes():
    page = (Path(__file__).resolve().parents[1] / "docs/recipes.md").read_text()
    shown = json.loads("{" + re.search(r'```json\n"schedule": (\{.*?\})\n```', page, re.S)[1][1:])
    assert shown == plan(NOTEBOOK, rows=400).report(NOTEBOOK)
