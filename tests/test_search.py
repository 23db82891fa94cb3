"""`textclf search`: a real Optuna study whose trials are real DVC experiments on the tiny
model; the winner is chosen on the validation split only, the study continues across runs and
machines, Ctrl-C keeps the finished trials, and a bad space is one `error:` line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import dvc.api
import optuna
import pandas as pd
import pytest
from conftest import (
    command_env,
    copy_project,
    fixture_params,
    make_project,
    run,
    update_params,
)
from fixtures import news_rows, write_news_csv

from textclf.config.search_params import SearchParams
from textclf.tuning.heartbeat import ask
from textclf.tuning.search import open_study
from textclf.tuning.search_space import distributions
from textclf.tuning.trials import run_experiment, trial_progress

COMMAND = [sys.executable, "-m", "textclf.search"]
SPACE = {
    "train.learning_rate": {"low": 1e-3, "high": 2e-2, "log": True},
    "train.epochs": {"choices": [1, 2]},
}


def searchable(project: Path, **search) -> Path:
    update_params(project, {"search": {"space": SPACE, "top": 2, **search}})
    run(["git", "commit", "-qam", "search space"], project)
    return project


def search(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([*COMMAND, *args], project, check=check)


def trial_metrics(project: Path, name: str) -> dict:
    """An experiment's metrics/train.json, read with DVC's own API."""
    return json.loads(dvc.api.read("metrics/train.json", repo=str(project), rev=name))


def experiments(project: Path) -> set[str]:
    return set(run(["dvc", "exp", "list", "--name-only"], project).stdout.split())


def study(project: Path, name: str = "search") -> optuna.Study:
    storage = f"sqlite:///{project / 'search/optuna.db'}"
    return optuna.load_study(study_name=name, storage=storage)


@pytest.fixture(scope="module")
def searched(tmp_path_factory, news_csvs, tiny_bert) -> dict:
    """3 trials on a fresh project (a team's first search after `git clone`: no dvc.lock, no
    stage ever run) whose test labels are rotated (World -> Sports ...): a recipe that is
    better on validation is worse on test, so a choice that read the test split would show."""
    folder = tmp_path_factory.mktemp("search")
    rotated = [(label % 4 + 1, title, text) for label, title, text in news_rows(120, seed=1)]
    test_csv = write_news_csv(folder / "rotated-test.csv", rotated)
    params = fixture_params(news_csvs, tiny_bert)
    params["data"]["test_url"] = str(test_csv)
    project = searchable(make_project(folder / "repo", params))
    assert not (project / "dvc.lock").exists()
    output = search(project, "--trials", "3").stdout
    return {"project": project, "output": output}


def test_trials_are_experiments_and_the_winner_is_the_best_on_validation(searched):
    project, output = searched["project"], searched["output"]
    names = {f"search-{number}" for number in range(3)}
    assert names <= experiments(project)
    for number in range(3):
        assert f"trial {number + 1}/3: search-{number}" in output
    assert "s left" in output and "accuracy 95%" in output
    # it ends with how to use the winner
    assert re.search(r"the winner is search-\d: `textclf search --trials 3 --apply`", output)
    accuracy = {name: trial_metrics(project, name)["eval_accuracy"] for name in names}
    board = pd.read_csv(project / "search/search.csv")
    assert set(board["experiment"]) == names
    winner = board.loc[board["rank"] == 1, "experiment"].item()
    assert accuracy[winner] == max(accuracy.values())
    assert board.loc[board["rank"] == 1, "eval_accuracy"].item() == pytest.approx(accuracy[winner])


def test_trials_run_only_through_train(searched):
    project = searched["project"]
    for number in range(3):
        log = (project / f"search/logs/search-{number}.log").read_text()
        assert "Running stage 'train'" in log
        for stage in ("evaluate", "baseline", "export", "package"):
            assert f"Running stage '{stage}'" not in log
    assert run(["git", "status", "--porcelain", "params.yaml"], project).stdout == ""


def test_a_second_invocation_continues_the_study(searched):
    project = searched["project"]
    output = search(project, "--trials", "4").stdout
    assert "trial 4/4: search-3" in output and "trial 1/4" not in output
    assert len(study(project).trials) == 4
    assert "search-3" in experiments(project)


def test_seeds_rerun_the_top_configurations_and_pick_the_best_mean(searched):
    project = searched["project"]
    search(project, "--trials", "4", "--seeds", "2")
    board = pd.read_csv(project / "search/search.csv")
    top = board[board["rank"].isin([1, 2])]
    assert (top["seeds"] == 2).all()
    for name in top["experiment"]:
        assert f"{name}-seed1" in experiments(project)
        runs = [trial_metrics(project, n)["eval_accuracy"] for n in (name, f"{name}-seed1")]
        assert top.loc[top["experiment"] == name, "eval_accuracy"].item() == pytest.approx(
            sum(runs) / 2, abs=1e-6
        )
    assert top["eval_accuracy"].is_monotonic_decreasing


def test_apply_refuses_to_overwrite_uncommitted_edits_or_its_own_log(searched):
    project = searched["project"]
    params = project / "params.yaml"
    original = params.read_text()
    edited = original + "# a note not committed yet\n"
    params.write_text(edited)
    try:
        refused = search(project, "--trials", "3", "--apply", check=False)
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "error: --apply would overwrite the uncommitted changes to params.yaml with the "
            "winner's files: commit or stash them first (nothing was run)"
        )
        assert params.read_text() == edited
    finally:
        params.write_text(original)
    log = project / "apply.log"  # `textclf search --apply > apply.log` in the project's root
    with log.open("w") as output:
        command = [*COMMAND, "--trials", "3", "--apply"]
        refused = subprocess.run(command, cwd=project, stdout=output, stderr=subprocess.PIPE)
    assert refused.returncode == 1
    assert f"this command's output goes to {log}" in refused.stderr.decode()
    log.unlink()


def test_apply_scores_the_winner_on_test_once_and_leaves_a_clean_workspace(searched):
    project = searched["project"]
    applied = search(project, "--trials", "4", "--seeds", "2", "--apply")
    output = applied.stdout
    # the stages after train never ran in this project: dvc repro makes their outputs
    assert "No file hash info" not in applied.stderr
    board = pd.read_csv(project / "search/search.csv")
    winner = board.loc[board["rank"] == 1, "experiment"].item()
    assert f"applying {winner}" in output
    assert "Data and pipelines are up to date" in run(["dvc", "status"], project).stdout
    shown = run(["dvc", "metrics", "show", "--json"], project).stdout
    assert "metrics/transformer/headline.json" in shown
    validation = json.loads((project / "metrics/train.json").read_text())
    assert validation == trial_metrics(project, winner)
    test = json.loads((project / "metrics/transformer/test.json").read_text())
    # the rotated test labels: the validation winner scores far below its validation accuracy
    assert test["accuracy"] < validation["eval_accuracy"] - 0.3


@pytest.mark.parametrize(
    ("space", "message"),
    [
        (
            {"train.lerning_rate": {"low": 1e-5, "high": 1e-4}},
            "search.space.train.lerning_rate: not a searchable key",
        ),
        ({"train.learning_rate": {"low": 1e-4, "high": 1e-5}}, "empty range"),
        (
            {"train.learning_rate": {"low": 0.0, "high": 1e-4, "log": True}},
            "search.space.train.learning_rate.low must be > 0 on a log scale",
        ),
        ({"train.learning_rate": {"low": float("nan"), "high": 1e-4}}, "must be a finite number"),
        ({"train.batch_size": {"choices": []}}, "choices must list at least one value"),
        ({"train.batch_size": {"choices": [16, -1]}}, "train.batch_size must be > 0, got -1"),
        ({"train.processes": {"choices": [1, 2]}}, "not a searchable key"),
    ],
)
def test_a_bad_space_is_one_line_naming_the_params_line(tmp_path, space, message):
    project = tmp_path / "repo"
    project.mkdir()
    (project / "dvc.yaml").write_text("stages: {}\n")
    lines = [
        "data: {train_url: a.csv, test_url: b.csv, classes: [x, y]}",
        "search:",
        "  trials: 2",
        "  space:",
    ]
    for key, spec in space.items():
        lines += [f"    {key}:"] + [f"      {name}: {value}" for name, value in spec.items()]
    text = "\n".join(lines).replace("nan", ".nan") + "\n"
    (project / "params.yaml").write_text(text)
    result = search(project, check=False)
    assert result.returncode == 1 and result.stdout == ""
    error = result.stderr.strip()
    assert "\n" not in error and error.startswith("error: ")
    assert message in error
    assert error.startswith("error: " + str(project / "params.yaml") + ":")
    assert not (project / "search").exists()


@pytest.mark.parametrize(
    ("storage", "shown"),
    [
        ("nosuchdb://nowhere", "nosuchdb://nowhere"),
        # a team's database: its password never reaches the terminal or a CI log
        ("nosuchdb://ann:s3cr%40t-pw@db.example:5432/study", "nosuchdb://ann:***@db.example:5432"),
    ],
)
def test_a_storage_optuna_cannot_open_is_one_line(tmp_path, storage, shown):
    project = tmp_path / "repo"
    project.mkdir()
    (project / "dvc.yaml").write_text("stages: {}\n")
    (project / "params.yaml").write_text(
        "data: {train_url: a.csv, test_url: b.csv, classes: [x, y]}\n"
        f"search: {{storage: '{storage}'}}\n"
    )
    result = search(project, check=False)
    assert result.returncode == 1
    error = result.stderr.strip()
    assert error.startswith(f"error: search.storage {shown}") and "\n" not in error
    assert "s3cr" not in error


def test_a_search_of_up_to_ten_trials_is_a_seeded_random_search(tmp_path):
    """docs/recipes.md: TPE proposes from what it has seen only after its first 10 trials
    (Optuna's n_startup_trials); before that, the study's seed fixes its random samples."""
    params = SearchParams(storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    study, _ = open_study(params, tmp_path)
    space = distributions(params.space)
    proposed = []
    for value in range(11):  # ever better values: a model of them would move towards the last
        trial = ask(study, space)
        study.tell(trial, float(value))
        proposed.append(trial.params)
    random = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=params.seed))
    samples = [random.ask(space).params for _ in range(11)]
    assert proposed[:10] == samples[:10]
    assert proposed[10] != samples[10]


def test_a_time_budget_stops_new_trials_and_a_running_trial_reports_its_step(searched, tmp_path):
    project = copy_project(searched["project"], tmp_path / "copy")
    counted = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    done = len(study(project).get_trials(states=counted))  # other tests may have added some
    output = search(project, "--trials", str(done + 2), "--timeout", "1").stdout
    # one more trial starts, then the budget is spent
    assert f"trial {done + 1}/{done + 2}" in output and f"trial {done + 2}/" not in output
    assert re.search(r"--timeout: \d+ s have passed, so no new trial starts", output)
    assert f"`textclf search --trials {done + 1} --apply`" in output

    log = project / "search/logs/progress.log"
    lines: list[str] = []
    path = {"PATH": command_env()["PATH"]}  # the stages' python: this environment's
    unseen = ["-S", "train.seed=7"]  # a recipe no trial ran: it trains, not restored from cache
    run_experiment(project, "progress", unseen, log, path, report=lines.append, first_report_s=0.2)
    assert lines, log.read_text()
    assert all(re.fullmatch(r"  progress: (preparing|step \d+/\d+), \d+ s", x) for x in lines)
    steps = trial_metrics(project, "progress")["schedule"]["steps"]
    assert trial_progress(log) == f"step {steps}/{steps}"
