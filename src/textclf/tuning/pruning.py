"""Pruning for `textclf search` (`search.prune`): a trial's train stage reports its validation
metric after each epoch to the Optuna study and stops when the study's median pruner says the
trial cannot win. The search passes the trial in the environment (`TEXTCLF_SEARCH_TRIAL`), so
a stage run by `dvc repro` never prunes. A pruned run stops with an error: DVC then keeps no
experiment and no run-cache entry of a training that was cut short."""

from __future__ import annotations

import json
import os

from transformers import TrainerCallback

from textclf.config.errors import UserError

ENVIRONMENT = "TEXTCLF_SEARCH_TRIAL"
STARTUP_TRIALS = 2  # trials that run whole before any is pruned: the median needs some


class TrialPruned(UserError):
    """The search's pruner stopped this trial."""


def trial_environment(storage: str, study: str, trial_id: int, metric: str) -> dict[str, str]:
    """The environment variable that makes a train stage report to (and obey) the pruner."""
    settings = {"storage": storage, "study": study, "trial_id": trial_id, "metric": metric}
    return {ENVIRONMENT: json.dumps(settings)}


def median_pruner():
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=0)


class ReportToStudy(TrainerCallback):
    """After each validation: report the metric as the epoch's value; stop if pruned."""

    def __init__(self, settings: dict):
        import optuna

        self.metric = settings["metric"]
        study = optuna.load_study(
            study_name=settings["study"], storage=settings["storage"], pruner=median_pruner()
        )
        self.trial = optuna.Trial(study, settings["trial_id"])

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero or not metrics or self.metric not in metrics:
            return
        epoch = round(state.epoch or 0)
        self.trial.report(metrics[self.metric], step=epoch)
        if self.trial.should_prune():
            self.trial.set_user_attr("pruned_at_epoch", epoch)
            raise TrialPruned(
                f"pruned by textclf search after epoch {epoch} ({self.metric} "
                f"{metrics[self.metric]:.4f}, below the other trials' median)"
            )


def pruning_callbacks() -> list[TrainerCallback]:
    """The pruning callback when a search started this stage with pruning on, else none."""
    settings = os.environ.get(ENVIRONMENT)
    return [ReportToStudy(json.loads(settings))] if settings else []
