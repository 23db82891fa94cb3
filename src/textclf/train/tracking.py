"""Where training logs go: DVCLive on the training-step axis, and the local files of the other
trackers that `train.report_to` names, in folders the train stage declares as outputs."""

from __future__ import annotations

import os
from pathlib import Path

from transformers import TrainerCallback

from textclf.config.errors import ParamsError
from textclf.config.paths import DVCLIVE_DIR, TRACKER_LOGS_DIR

# Outputs of the train stage, as declared in dvc.yaml.


def check_trackers(report_to: list[str]) -> None:
    """ParamsError unless every `train.report_to` name is a tracker installed here (DVCLive,
    or an integration of the Trainer's), before anything is loaded: a misspelled name would
    otherwise fail inside the Trainer with a traceback."""
    from transformers.integrations import get_available_reporting_integrations

    known = ["dvclive", *get_available_reporting_integrations()]
    for name in report_to:
        if name not in [*known, "none", "all"]:
            raise ParamsError(
                f"train.report_to: {name!r} is not a tracker installed here (installed: "
                f"{', '.join(dict.fromkeys(known))}); check the spelling, or pip install it"
            )


def tracker_callbacks(report_to: list[str], main_process: bool) -> list[TrainerCallback]:
    """The callbacks this repository adds for `report_to`, and the trackers' local folders.

    Both folders always exist after the stage: DVC requires its outputs.
    The Trainer's own integrations (e.g. TensorBoard) are chosen by `report_to` in
    TrainingArguments; TensorBoard is pointed into `logs/train/tensorboard`, which survives
    the stage, instead of the scratch checkpoint folder."""
    for folder in (DVCLIVE_DIR, TRACKER_LOGS_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    # never empty: DVC warns about an empty output folder on every run and every checkout
    (TRACKER_LOGS_DIR / "README.md").write_text(
        "Local logs of the trackers in train.report_to other than DVCLive (e.g. tensorboard/).\n"
    )
    if "dvclive" not in report_to:  # DVCLive clears its folder when it starts
        (DVCLIVE_DIR / "README.md").write_text("DVCLive's logs, with dvclive in train.report_to.\n")
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(TRACKER_LOGS_DIR / "tensorboard")
    # DVCLive on rank 0 only: every Live() would clear the folder the others write to
    return [DVCLiveLogger(DVCLIVE_DIR)] if "dvclive" in report_to and main_process else []


class LogLastStep(TrainerCallback):
    """Log the train loss at the last step too, so the loss curve ends where training ended
    (the Trainer evaluates there already: at the end of every epoch, the last one included)."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_log = True
        return control


class DVCLiveLogger(TrainerCallback):
    """Trainer logs to DVCLive on the training-step axis (`step` is the optimizer step, not a
    count of log calls), without DVCLive's dump of every TrainingArguments field: the params
    that matter are in params.yaml, where `dvc exp show` reads them.

    DVC empties the DVCLive folder before the stage runs; on a resumed run the log history
    restored from the checkpoint is replayed into it, so the curves continue."""

    def __init__(self, directory: str | Path):
        # imported here: a run that does not report to DVCLive (a benchmark on a bare GPU
        # machine, say) does not need it installed
        from dvclive import Live

        # dvcyaml=False: plots are declared in dvc.yaml; save_dvc_exp=False: this runs inside
        # `dvc repro`/`dvc exp run`, which record the experiment themselves.
        self.live = Live(str(directory), dvcyaml=False, save_dvc_exp=False)

    def on_train_begin(self, args, state, control, **kwargs):
        for logs in state.log_history:
            self._log(logs)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero:
            self._log({**logs, "step": state.global_step})

    def _log(self, logs: dict) -> None:
        from dvclive.utils import standardize_metric_name

        self.live.step = int(logs.get("step", 0))
        for key, value in logs.items():
            if key not in ("step", "epoch") and isinstance(value, int | float):
                name = standardize_metric_name(key, "dvclive.huggingface")
                self.live.log_metric(name, value)
        self.live.make_summary()

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.live.end()
