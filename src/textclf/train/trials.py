"""One search trial: a real DVC experiment (`dvc exp run --temp -n NAME -S ... train`) run
outside the workspace, through the train stage only, and read back: its validation metrics
(metrics/train.json) and validation predictions. The test split is never run or read."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from textclf.config.errors import UserError
from textclf.config.outputs import TRAIN_METRICS, VALIDATION_PREDICTIONS
from textclf.config.revisions import read_text
from textclf.evaluate.comparison import read_predictions


class TrialError(UserError):
    """A trial's experiment failed; the message names its log."""


@dataclass(frozen=True)
class TrialResult:
    name: str
    metrics: dict  # metrics/train.json
    predictions: pd.DataFrame  # metrics/validation_predictions.csv
    seconds: float


def dvc_command() -> list[str]:
    """`dvc` of this interpreter's environment (the one that has textclf)."""
    return [sys.executable, "-m", "dvc"]


def run_experiment(
    repo: Path, name: str, arguments: list[str], log: Path, environment: dict | None = None
) -> None:
    """`dvc exp run --temp -n NAME <arguments> train` in `repo`, its output to `log`;
    TrialError naming the log if it fails. Arguments are a list: nothing passes a shell."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [*dvc_command(), "exp", "run", "--temp", "-n", name, *arguments, "train"]
    with log.open("w", encoding="utf-8") as output:
        finished = subprocess.run(
            command,
            cwd=repo,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(environment or {})},
        )
    if finished.returncode != 0:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        # the stage's own one-line error says more than DVC's "failed to reproduce"
        ours = [line for line in lines if line.startswith("error:")]
        dvcs = [line for line in lines if line.startswith("ERROR")]
        last = (ours or dvcs or lines or ["no output"])[-1]
        raise TrialError(f"experiment {name} failed ({last.strip()}); its log: {log}")


def read_trial(repo: Path, name: str, seconds: float) -> TrialResult:
    """The validation results of experiment `name`, read through DVC."""
    metrics = json.loads(read_text(TRAIN_METRICS, name, repo))
    text = read_text(VALIDATION_PREDICTIONS, name, repo)
    return TrialResult(name, metrics, read_predictions(io.StringIO(text), name), seconds)


def experiment_exists(repo: Path, name: str) -> bool:
    listed = subprocess.run(
        [*dvc_command(), "exp", "list", "--name-only"], cwd=repo, capture_output=True, text=True
    )
    return name in listed.stdout.split()
