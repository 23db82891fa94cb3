"""One search trial: a real DVC experiment (`dvc exp run --temp -n NAME -S ... train`) run
outside the workspace, through the train stage only, and read back: its validation metrics
(metrics/train.json) and validation predictions. The test split is never run or read."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from textclf.config.errors import UserError
from textclf.config.paths import TRAIN_METRICS, VALIDATION_PREDICTIONS
from textclf.config.revisions import read_text
from textclf.evaluate.comparison import read_predictions

# the Trainer's progress bar in a trial's log ("  30%|███   | 15/50 [00:19<00:46"), not the
# tokenizer's, whose bars carry a description ("tokenize train: 100%|...")
TRAINER_BAR = re.compile(r"(?:^|[\r\n])\s*\d+%\|[^|\r\n]*\| (\d+)/(\d+) \[")
FIRST_REPORT_S, LAST_REPORT_S = 10.0, 120.0  # progress lines come often first, then sparser
STOP_GRACE_S = 10.0


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


def trial_progress(log: Path) -> str:
    """Where a running trial is, from the end of its log: `step 15/50`, or `preparing`
    before its training starts."""
    try:
        with log.open("rb") as text:
            text.seek(max(log.stat().st_size - 8192, 0))
            tail = text.read().decode("utf-8", errors="replace")
    except OSError:
        return "starting"
    steps = TRAINER_BAR.findall(tail)
    return f"step {steps[-1][0]}/{steps[-1][1]}" if steps else "preparing"


def run_experiment(
    repo: Path,
    name: str,
    arguments: list[str],
    log: Path,
    environment: dict | None = None,
    report: Callable[[str], None] | None = None,
    first_report_s: float = FIRST_REPORT_S,
) -> None:
    """`dvc exp run --temp -n NAME <arguments> train` in `repo`, its output to `log`;
    TrialError naming the log if it fails. Arguments are a list: nothing passes a shell.
    While it runs, `report` gets a line of progress (step, elapsed time) after
    `first_report_s`, then at doubling intervals up to two minutes."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [*dvc_command(), "exp", "run", "--temp", "-n", name, *arguments, "train"]
    start, wait = time.monotonic(), first_report_s
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command,
            cwd=repo,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(environment or {})},
            # its own process group: stopping the search stops DVC and the stage it runs
            # together, whichever signal stopped the search (Ctrl-C reaches the terminal's
            # group; SIGTERM from a scheduler reaches the search alone)
            start_new_session=True,
        )
        try:
            while True:
                try:
                    process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    if report is not None:
                        elapsed = time.monotonic() - start
                        report(f"  {name}: {trial_progress(log)}, {elapsed:.0f} s")
                    wait = min(wait * 2, LAST_REPORT_S)
        except BaseException:  # Ctrl-C or SIGTERM: the trial stops with the search
            stop_group(process)
            raise
    if process.returncode != 0:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        # the stage's own one-line error says more than DVC's "failed to reproduce"
        ours = [line for line in lines if line.startswith("error:")]
        dvcs = [line for line in lines if line.startswith("ERROR")]
        if any(line.startswith("ERROR: Experiment conflicts with existing") for line in dvcs):
            raise UserError(
                f"experiment {name} already exists, from an earlier study of this name (was "
                "search.storage reset?): name a new search.study, or remove the old experiments "
                "(`dvc exp remove` them)"
            )
        last = (ours or dvcs or lines or ["no output"])[-1]
        raise TrialError(f"experiment {name} failed ({last.strip()}); its log: {log}")


def stop_group(process: subprocess.Popen) -> None:
    """Stop a trial's process group: SIGINT first (DVC removes its temporary copy), SIGKILL
    after STOP_GRACE_S."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)
    with contextlib.suppress(ProcessLookupError):  # the stage may outlive DVC: the group
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def read_trial(repo: Path, name: str, seconds: float) -> TrialResult:
    """The validation results of experiment `name`, read through DVC."""
    metrics = json.loads(read_text(TRAIN_METRICS, name, repo))
    text = read_text(VALIDATION_PREDICTIONS, name, repo)
    return TrialResult(name, metrics, read_predictions(io.StringIO(text), name), seconds)
