"""A train stage killed with SIGKILL resumes from its last checkpoint on the next `dvc repro`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from conftest import command_env, fixture_params, make_project, run

pytestmark = [pytest.mark.pipeline, pytest.mark.training]

EPOCHS, BATCH, SAVE_STEPS, LOGGING_STEPS = 6, 16, 20, 5


def checkpoints(project):
    return sorted((project / "models/checkpoints").glob("checkpoint-*/trainer_state.json"))


def training_until_a_checkpoint(project: Path, output: int) -> subprocess.Popen:
    """`dvc repro train` in a session of its own (tokenized first), once its first checkpoint
    is written (or it ended); `output`: DEVNULL, or PIPE for its stdout and stderr as text."""
    run(["dvc", "repro", "tokenize"], project)
    training = subprocess.Popen(
        ["dvc", "repro", "train"],
        cwd=project,
        env=command_env(),
        start_new_session=True,
        # as from a terminal: pytest-xdist's workers ignore SIGINT, and children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=output,
        stderr=subprocess.STDOUT if output == subprocess.PIPE else output,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not checkpoints(project) and training.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return training


@pytest.mark.parametrize("load_best", [False, True], ids=["last-epoch", "load-best"])
def test_killed_training_resumes_and_matches_an_uninterrupted_run(
    tmp_path, news_csvs, tiny_bert, load_best
):
    """With `train.load_best` checkpoints are per epoch, and the best epoch is still known
    after the resume (the Trainer's state travels with each checkpoint)."""
    # per-epoch checkpoints (load_best) leave a kill more room: fewer epochs do
    epochs = 4 if load_best else EPOCHS
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["train"].update(
        epochs=epochs,
        batch_size=BATCH,
        save_steps=SAVE_STEPS,
        logging_steps=LOGGING_STEPS,
        load_best=load_best,
    )
    project = make_project(tmp_path / "repo", overrides)
    training = training_until_a_checkpoint(project, subprocess.DEVNULL)
    training_process = psutil.Process(training.pid)
    # the whole stage dies at once: dvc, torchrun and its worker (which has a session of its own)
    tree = [training_process, *training_process.children(recursive=True)]
    for process in tree:
        process.send_signal(signal.SIGKILL)
    psutil.wait_procs(tree, timeout=30)
    training.wait()
    assert checkpoints(project), "training ended before its first checkpoint: test too fast"
    assert not (project / "models/trained").exists()

    resumed_run = run(["dvc", "repro", "train"], project).stdout
    assert "Resuming from models/checkpoints/checkpoint-" in resumed_run
    step = int(resumed_run.split("Resuming from models/checkpoints/checkpoint-")[1].split()[0])
    total_steps = epochs * -(-432 // BATCH)
    assert 0 < step < total_steps
    assert not (project / "models/checkpoints").exists(), "a finished run leaves no checkpoints"
    resumed = json.loads((project / "metrics/train.json").read_text())
    # DVCLive history continues: every logged train loss from step 1, none twice
    history = (project / "dvclive/train/plots/metrics/loss.tsv").read_text().splitlines()
    steps = [int(line.split("\t")[0]) for line in history[1:]]
    logged = [1, *range(LOGGING_STEPS, total_steps + 1, LOGGING_STEPS)]
    assert steps == logged + ([total_steps] if total_steps % LOGGING_STEPS else [])

    run(["dvc", "repro", "--force", "--single-item", "train"], project)
    uninterrupted = json.loads((project / "metrics/train.json").read_text())
    assert set(resumed["epochs"]) == set(uninterrupted["epochs"])
    assert resumed["eval_accuracy"] == pytest.approx(uninterrupted["eval_accuracy"], abs=0.03)
    assert resumed["eval_loss"] == pytest.approx(uninterrupted["eval_loss"], rel=0.05)
    # the whole run's mean train loss, not the Trainer's sum over the steps after the resume
    # (which leaves out the first, highest losses); per-epoch checkpoints (load_best) fall
    # between two log points, and the log window the kill cut counts only its steps after the
    # restart
    tolerance = 0.03 if load_best else 0.005
    assert resumed["train_loss"] == pytest.approx(uninterrupted["train_loss"], rel=tolerance)
    if load_best:  # the kept epoch is the best of all of them, those before the kill included
        losses = {epoch["eval_loss"]: key for key, epoch in resumed["epochs"].items()}
        assert f"epoch_{resumed['kept_epoch']:g}" == losses[min(losses)]


def test_ctrl_c_in_epoch_two_is_one_line_and_keeps_epoch_one(tmp_path, news_csvs, tiny_bert):
    """A small run never reaches `train.save_steps`: its epochs are saved as they end, and Ctrl-C
    (SIGINT to the whole process group, as a terminal sends it) ends in one line."""
    overrides = fixture_params(news_csvs, tiny_bert)
    # small batches: the second epoch lasts long enough to be stopped in
    overrides["train"].update(epochs=2, batch_size=2, save_steps=500, logging_steps=50)
    project = make_project(tmp_path / "repo", overrides)
    training = training_until_a_checkpoint(project, subprocess.PIPE)
    assert checkpoints(project), "training ended before its first epoch did: test too fast"
    os.killpg(training.pid, signal.SIGINT)
    output = training.communicate(timeout=120)[0]
    assert training.returncode != 0, output
    assert "Traceback" not in output, output
    assert output.count("interrupted: the stage stopped") == 1, output
    steps_per_epoch = 432 // 2
    assert checkpoints(project)[0].parent.name == f"checkpoint-{steps_per_epoch}"
    assert not (project / "models/trained").exists()
    resumed = run(["dvc", "repro", "train"], project).stdout
    assert f"Resuming from models/checkpoints/checkpoint-{steps_per_epoch}" in resumed
