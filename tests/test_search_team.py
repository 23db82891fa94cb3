"""`textclf search` as a team and when stopped: two workers share one SQLite study, Ctrl-C
keeps the finished trials, a killed worker's trial is failed and replaced, and pruning stops a
hopeless trial after its first epoch."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import optuna
import pandas as pd
import psutil
import pytest
from conftest import command_env, copy_project, run, update_params
from test_search import COMMAND, experiments, search, searchable, study

from textclf.tuning.heartbeat import GRACE_BEATS, HeartbeatStorage, fail_silent_trials

pytestmark = pytest.mark.search


def test_ctrl_c_mid_trial_keeps_the_finished_trials(tmp_path, trained_project):
    project = searchable(copy_project(trained_project, tmp_path / "repo"))
    process = subprocess.Popen(
        [*COMMAND, "--trials", "3"],
        cwd=project,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a shell's background job (nohup, `&`) ignores SIGINT, and children inherit that:
        # give the search the default, as a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = ""
    deadline = time.monotonic() + 300
    while "trial 2/3" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    time.sleep(3)  # inside the second trial's experiment
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0
    assert stderr.strip().splitlines()[-1].startswith("interrupted: the 1 finished trials are kept")
    states = [trial.state for trial in study(project).trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL]
    assert "search-0" in experiments(project)
    assert run(["git", "status", "--porcelain", "params.yaml", "dvc.lock"], project).stdout == ""
    # the next run continues: the failed trial does not count
    output = search(project, "--trials", "2").stdout
    assert "trial 2/2: search-2" in output


def test_a_killed_worker_s_trial_is_failed_by_the_next_worker_and_replaced(
    tmp_path, trained_project
):
    project = copy_project(trained_project, tmp_path / "repo")
    space = {"train.epochs": {"choices": [8]}}  # a trial long enough to outlive the grace
    update_params(project, {"search": {"space": space, "heartbeat_seconds": 1}})
    run(["git", "commit", "-qam", "heartbeats every second"], project)
    process = subprocess.Popen(
        [*COMMAND, "--trials", "1"],
        cwd=project,
        env=command_env(),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = ""
    deadline = time.monotonic() + 300
    while "trial 1/1" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    time.sleep(2 * GRACE_BEATS)  # past the grace: only its heartbeats keep the trial alive
    storage_url = f"sqlite:///{project / 'search/optuna.db'}"
    storage = HeartbeatStorage(storage_url, 1)
    live = optuna.load_study(study_name="search", storage=storage)
    assert process.poll() is None and fail_silent_trials(live, storage) == []
    assert live.trials[0].state == optuna.trial.TrialState.RUNNING

    os.killpg(process.pid, signal.SIGKILL)  # no Ctrl-C handler runs: the trial stays running
    process.wait(timeout=60)
    time.sleep(GRACE_BEATS + 1)
    replacing = search(project, "--trials", "1")
    assert "Warning" not in replacing.stderr  # Optuna's heartbeats are experimental: no noise
    output = replacing.stdout
    assert f"trial 0: its worker sent no heartbeat for {GRACE_BEATS} s: failed" in output
    assert "trial 1/1: search-1" in output
    states = [trial.state for trial in study(project).trials]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    assert "search-1" in experiments(project)


def test_two_workers_share_one_sqlite_study(tmp_path, trained_project):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    workers = [
        searchable(copy_project(trained_project, tmp_path / name / "repo"), storage=storage)
        for name in ("a", "b")
    ]
    processes = [
        subprocess.Popen(
            [*COMMAND, "--trials", "4"], cwd=worker, env=command_env(), stdout=subprocess.PIPE
        )
        for worker in workers
    ]
    outputs = [process.communicate(timeout=600)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    shared = optuna.load_study(study_name="search", storage=storage)
    complete = [t for t in shared.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert 4 <= len(complete) <= 5  # a worker may start one while the other finishes the 4th
    names = [trial.user_attrs["experiment"] for trial in complete]
    assert len(set(names)) == len(names)
    ran = [experiments(worker) & set(names) for worker in workers]
    assert all(ran) and ran[0].isdisjoint(ran[1]) and ran[0] | ran[1] == set(names)


def test_pruning_stops_a_hopeless_trial_after_its_first_epoch(tmp_path, trained_project):
    # with this sampler seed the trials draw 5e-3, 5e-3, then 1e-9 (a rate that learns nothing)
    project = copy_project(trained_project, tmp_path / "repo")
    update_params(
        project,
        {
            "search": {
                "space": {"train.learning_rate": {"choices": [1e-9, 5e-3]}},
                "prune": True,
                "seed": 12,
            }
        },
    )
    run(["git", "commit", "-qam", "pruned search"], project)
    output = search(project, "--trials", "3").stdout
    assert "pruned after epoch 1" in output
    states = [trial.state for trial in study(project).trials]
    complete, pruned = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
    assert states == [complete, complete, pruned]
    assert study(project).trials[2].params["train.learning_rate"] == 1e-9
    assert "search-2" not in experiments(project)  # a cut-short training is kept nowhere
    board = pd.read_csv(project / "search/search.csv")
    assert board.loc[board["experiment"] == "search-2", "state"].item() == "pruned"
    assert set(board.loc[board["rank"] == 1, "experiment"]) <= {"search-0", "search-1"}


def test_failing_trials_are_reported_and_three_in_a_row_stop_the_search(tmp_path, trained_project):
    project = copy_project(trained_project, tmp_path / "repo")
    # a multi-label metric on single-label data: the train stage stops before training
    update_params(project, {"search": {"space": {"train.best_metric": {"choices": ["f1_micro"]}}}})
    run(["git", "commit", "-qam", "a space whose trials fail"], project)
    result = search(project, "--trials", "5", check=False)
    assert result.returncode == 1
    assert result.stdout.count("  failed: experiment search-") == 3
    error = result.stderr.strip()
    assert error.startswith("error: 3 trials in a row failed, the last: experiment search-2 failed")
    assert (
        "is not a single-label validation metric" in error and "search/logs/search-2.log" in error
    )
    assert [t.state for t in study(project).trials] == [optuna.trial.TrialState.FAIL] * 3


def test_sigterm_stops_the_search_and_its_trial_s_processes(tmp_path, trained_project):
    """A scheduler's SIGTERM reaches the search alone (not its process group, as Ctrl-C does):
    the trial's DVC and training processes stop with it, and the trial is marked failed."""
    project = searchable(copy_project(trained_project, tmp_path / "repo"))
    process = subprocess.Popen(
        [*COMMAND, "--trials", "2"],
        cwd=project,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    log = project / "search/logs/search-0.log"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and "Running stage 'train'" not in (
        log.read_text() if log.exists() else ""
    ):
        time.sleep(0.5)
    time.sleep(2)  # the stage's process started
    children = psutil.Process(process.pid).children(recursive=True)
    assert any("textclf.stages.train" in " ".join(c.cmdline()) for c in children), children
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0
    assert stderr.strip().splitlines()[-1].startswith("interrupted: the 0 finished trials")
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [c.cmdline() for c in alive]
    assert [t.state for t in study(project).trials] == [optuna.trial.TrialState.FAIL]
