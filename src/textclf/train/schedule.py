"""How long to train: `train.epochs`, raised to whole epochs that reach `train.min_steps`
optimizer steps when the data is small (the notebook's 2 epochs are 9,000 steps on AG News,
a few dozen on a team's few hundred rows, which underfit)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from textclf.config.train_params import TrainParams


@dataclass(frozen=True)
class Schedule:
    """The epochs the Trainer runs, and why."""

    epochs: float  # the epochs to train (train.epochs, or more)
    steps_per_epoch: int
    steps: int  # optimizer steps planned
    epochs_added: int  # whole epochs added to reach train.min_steps (0: none)
    reason: str

    @property
    def added(self) -> bool:
        return self.epochs_added > 0

    def report(self, train: TrainParams) -> dict:
        """The `schedule` entry of metrics/train.json."""
        return {
            "epochs_planned": train.epochs,
            "epochs": self.epochs,
            "epochs_added": self.epochs_added,
            "steps_per_epoch": self.steps_per_epoch,
            "steps": self.steps,
            "min_steps": train.min_steps or 0,
            "reason": self.reason,
        }


def steps_per_epoch(rows: int, batch_size: int, world_size: int = 1) -> int:
    """Optimizer steps in one epoch over `rows` rows: each of `world_size` processes takes an
    equal share (the distributed sampler pads the last), in batches of `batch_size`."""
    return max(1, math.ceil(math.ceil(rows / world_size) / batch_size))


def plan(train: TrainParams, rows: int, world_size: int = 1) -> Schedule:
    """`train.epochs`, or as many whole epochs as reach `train.min_steps` steps when fewer."""
    per_epoch = steps_per_epoch(rows, train.batch_size, world_size)
    planned = math.ceil(train.epochs * per_epoch)
    if train.max_steps:
        reason = f"train.max_steps {train.max_steps} decides"
        return Schedule(train.epochs, per_epoch, train.max_steps, 0, reason)
    if not train.min_steps:
        return Schedule(train.epochs, per_epoch, planned, 0, "train.epochs (min_steps off)")
    if planned >= train.min_steps:
        reason = f"train.epochs: {planned} steps reach train.min_steps {train.min_steps}"
        return Schedule(train.epochs, per_epoch, planned, 0, reason)
    epochs = math.ceil(train.min_steps / per_epoch)
    reason = (
        f"train.epochs {train.epochs:g} would be {planned} steps ({rows} rows, {per_epoch} an "
        f"epoch), under train.min_steps {train.min_steps}: {epochs} epochs, the best kept"
    )
    added = epochs - math.ceil(train.epochs)
    return Schedule(float(epochs), per_epoch, epochs * per_epoch, added, reason)


def scheduled_params(train: TrainParams, schedule: Schedule) -> TrainParams:
    """The train params the Trainer runs: the schedule's epochs and, when epochs were added,
    per-epoch checkpoints with the best validation epoch kept (`train.best_metric`)."""
    if not schedule.added:
        return train
    return dataclasses.replace(train, epochs=schedule.epochs, load_best=True)
