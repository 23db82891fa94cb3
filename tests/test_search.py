"""`textclf search`: a real Optuna study whose trials are real DVC experiments on the tiny
model; the winner is chosen on the validation split only, the study continues across runs and
machines, Ctrl-C keeps the finished trials, and a bad space is one `error:` line."""

from __future__ import annotations

import json
import re
import sqlite3
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
from ruamel.yaml import YAML

from textclf.config.search_params import SearchParams
from textclf.tuning.heartbeat import ask
from textclf.tuning.sampler import trial_seed
from textclf.tuning.search_space import distributions, overrides
from textclf.tuning.study import open_study
from textclf.tuning.trials import run_experiment, trial_progress

pytestmark = pytest.mark.search

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
        # libpq's other form: the password in the query
        (
            "nosuchdb://db.example/study?user=ann&password=s3cr%40t-pw&sslmode=require",
            "nosuchdb://db.example/study?user=ann&password=***&sslmode=require",
        ),
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
    (Optuna's n_startup_trials); before that, each trial's random sample is fixed by
    `search.seed` and the trial's number."""
    params = SearchParams(storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    study, _ = open_study(params, tmp_path)
    space = distributions(params.space)
    proposed = []
    for value in range(11):  # ever better values: a model of them would move towards the last
        trial = ask(study, space)
        study.tell(trial, float(value))
        proposed.append(trial.params)
    samples = [
        optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=trial_seed(params.seed, n)))
        .ask(space)
        .params
        for n in range(11)
    ]
    assert proposed[:10] == samples[:10]
    assert proposed[10] != samples[10]


def test_a_continued_study_and_a_second_worker_propose_new_values_reproducibly(tmp_path):
    """Each process opens the study with a new sampler: a continuation (`--trials 2`, then
    `--trials 4`) and a second worker must not propose the first trials' values again, and the
    same seed must give the same proposals on a fresh study."""

    def proposals(folder: Path, processes: int, seed: int = 0) -> list[dict]:
        folder.mkdir()
        params = SearchParams(storage=f"sqlite:///{folder / 'optuna.db'}", seed=seed)
        space, found = distributions(params.space), []
        for _ in range(processes):
            study, _ = open_study(params, folder)  # what a new process does
            for _ in range(2):
                trial = ask(study, space)
                study.tell(trial, 0.5)
                found.append(trial.params)
        return found

    continued = proposals(tmp_path / "a", processes=3)
    assert len({repr(values) for values in continued}) == 6
    assert proposals(tmp_path / "b", processes=3) == continued
    assert proposals(tmp_path / "c", processes=3, seed=1) != continued

    params = SearchParams(storage=f"sqlite:///{tmp_path / 'shared.db'}")
    one, _ = open_study(params, tmp_path)
    two, _ = open_study(params, tmp_path)  # a second worker, its trials interleaved
    space = distributions(params.space)
    first, second = ask(one, space), ask(two, space)
    assert first.params != second.params


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


def test_a_study_is_ranked_on_one_metric_and_one_set_of_validation_rows(searched, tmp_path):
    """A study records what its trials are comparable on: another `search.metric` (or
    direction) is refused before any trial, a trial scored on other validation rows fails with
    one line, and such trials already in the study (a teammate's) are kept off the ranking."""
    project = copy_project(searched["project"], tmp_path / "copy")
    before = len(study(project).trials)
    for metric, shown in [("eval_f1_macro", "higher"), ("eval_loss", "lower")]:
        update_params(project, {"search": {"metric": metric}})
        result = search(project, check=False)
        error = result.stderr.strip()
        assert result.returncode == 1 and "\n" not in error, result.stderr
        assert error.startswith(
            f"error: search.metric {metric} ({shown} is better): study search ranks its trials "
            "on eval_accuracy (higher is better)"
        )
    assert len(study(project).trials) == before

    update_params(project, {"search": {"metric": "eval_accuracy"}})
    shared = study(project)
    winner = max(
        shared.get_trials(states=[optuna.trial.TrialState.COMPLETE]), key=lambda t: t.value
    )
    other_rows, before_fingerprints = (f"search-{len(shared.trials) + n}" for n in (0, 1))
    for name, attrs in [
        (other_rows, {"validation": "0123456789abcdef"}),
        (before_fingerprints, {}),  # a trial recorded before studies kept fingerprints
    ]:
        shared.add_trial(
            optuna.trial.create_trial(
                params=winner.params,
                distributions=winner.distributions,
                value=1.0,  # better than any real trial: it must still not win
                user_attrs={
                    **attrs,
                    "experiment": name,
                    "labels": ["World"] * 3,
                    "predicted": ["World"] * 3,
                    "classes": winner.user_attrs["classes"],
                },
            )
        )
    output = search(project, "--trials", str(len(shared.trials))).stdout
    board = output[output.index("leaderboard") :]
    for name in (other_rows, before_fingerprints):
        assert re.search(rf"^-\s+{name}\s+incomparable", board, re.M), board
    assert f"the winner is {winner.user_attrs['experiment']}" in output

    update_params(project, {"prepare": {"validation_size": 0.2}})
    result = search(project, "--trials", str(len(shared.trials) + 1), check=False)
    error = result.stderr.strip()
    assert result.returncode == 1 and "\n" not in error, result.stderr
    assert re.fullmatch(
        r"error: search-\d+ was scored on other validation rows than study search's trials .*"
        r"name a new search\.study",
        error,
    )
    last = study(project).trials[-1]
    assert last.state == optuna.trial.TrialState.FAIL


NASTY_VALUES = [
    "café 日本",  # non-ASCII
    "${oc.env:HOME}",  # an interpolation: would write the environment into params.yaml
    "\\${x} and \\\\${y}",  # backslashes before one
    "a,b \"quoted\" 'too'",  # a comma would start a DVC sweep
    "C:\\models\\bert\\",  # backslashes, one at the end
    "tab\there",
    "null",
]


def test_trial_values_reach_dvc_exp_run_unchanged(tmp_path):
    """Each value goes through the real `dvc exp run -S` parser (Hydra, then OmegaConf) and
    lands in params.yaml exactly as the study proposed it."""
    run(["git", "init", "-q"], tmp_path)
    run(["dvc", "init", "-q"], tmp_path)
    keys = {f"texts.value{i}": value for i, value in enumerate(NASTY_VALUES)}
    (tmp_path / "params.yaml").write_text(
        "texts:\n" + "".join(f"  value{i}: x\n" for i in range(len(keys)))
    )
    (tmp_path / "dvc.yaml").write_text("stages:\n  noop:\n    cmd: echo\n    params: [texts]\n")
    run(["git", "add", "."], tmp_path)
    run(["git", "commit", "-qm", "init"], tmp_path)
    run(["dvc", "exp", "run", *overrides(keys), "noop"], tmp_path)
    written = YAML(typ="safe").load((tmp_path / "params.yaml").read_text())["texts"]
    assert [written[f"value{i}"] for i in range(len(keys))] == NASTY_VALUES


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ({"experiment": "../../outside"}, "experiment name '../../outside' is not one"),
        ({"rename": "train.processes"}, "param train.processes: not a searchable key"),
        ({"value": -1.0}, "param train.learning_rate: train.learning_rate must be > 0"),
    ],
)
def test_what_the_shared_study_holds_is_checked_before_use(searched, tmp_path, stored, problem):
    """A crafted trial in the shared study (written to its database directly) would name a log
    file outside the repository, or set any param through the seed reruns: one line, nothing
    run."""
    project = copy_project(searched["project"], tmp_path / "copy")
    shared = study(project)
    real = shared.get_trials(states=[optuna.trial.TrialState.COMPLETE])[0]
    experiment = stored.get("experiment", "search-99")
    shared.add_trial(
        optuna.trial.create_trial(
            params=real.params,
            distributions=real.distributions,
            value=0.5,
            user_attrs={**real.user_attrs, "experiment": experiment},
        )
    )
    added = shared.get_trials()[-1]._trial_id
    with sqlite3.connect(project / "search/optuna.db") as database:
        if "rename" in stored:
            database.execute(
                "UPDATE trial_params SET param_name = ? WHERE trial_id = ? AND param_name = ?",
                (stored["rename"], added, "train.epochs"),
            )
        if "value" in stored:
            database.execute(
                "UPDATE trial_params SET param_value = ? WHERE trial_id = ? AND param_name = ?",
                (stored["value"], added, "train.learning_rate"),
            )
    result = search(project, "--trials", str(len(shared.trials)), "--seeds", "2", check=False)
    error = result.stderr.strip()
    assert result.returncode == 1 and "\n" not in error, result.stderr
    assert error.startswith(f"error: search.storage: trial {len(shared.trials) - 1} of study ")
    assert problem in error, error
    assert "seed rerun" not in result.stdout and not (tmp_path / "outside.log").exists()


def test_apply_of_another_machine_s_winner_and_a_reset_study_say_what_to_do(searched, tmp_path):
    project = copy_project(searched["project"], tmp_path / "copy")
    board = pd.read_csv(project / "search/search.csv")
    winner = board.loc[board["rank"] == 1, "experiment"].item()
    for name in experiments(project):  # as on a machine that ran none of the trials
        run(["dvc", "exp", "remove", name], project)
    # an earlier test may have applied a winner: this machine's workspace is committed
    run(["git", "commit", "-qam", "the team's last commit", "--allow-empty"], project)
    result = search(project, "--trials", str(len(study(project).trials)), "--apply", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: dvc exp apply {winner}: no such experiment here; it ran on another machine: "
        f"`dvc exp pull origin {winner}` first"
    )

    reset = copy_project(searched["project"], tmp_path / "reset")
    (reset / "search/optuna.db").unlink()  # the study starts over: search-0 exists already
    result = search(reset, "--trials", "1", check=False)
    error = result.stderr.strip()
    assert result.returncode == 1 and "\n" not in error, result.stderr
    assert error.startswith("error: experiment search-0 already exists, from an earlier study")


def test_seed_reruns_of_a_searched_seed_start_from_the_trial_s_own(searched, tmp_path):
    project = copy_project(searched["project"], tmp_path / "copy")
    update_params(
        project,
        {"search": {"study": "seeded", "space": {"train.seed": {"choices": [5]}}, "top": 1}},
    )
    run(["git", "commit", "-qam", "seed in the space"], project)
    output = search(project, "--trials", "1", "--seeds", "2").stdout
    assert "seed rerun: seeded-0-seed1 (train.seed 6)" in output
    params = YAML(typ="safe").load(
        dvc.api.read("params.yaml", repo=str(project), rev="seeded-0-seed1")
    )
    assert params["train"]["seed"] == 6
