"""The static student's training loop, shared by its head and its token vectors: the rows
shuffled anew each epoch (seeded), read in batches of sorted row indices (the arrays are on
disk: in order is faster), the distillation loss of each batch against its targets, one step
of every optimizer per batch, each epoch's mean loss printed."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from textclf.config.distill_params import DistillParams
from textclf.distill.targets import distillation_loss


@dataclass(frozen=True)
class EpochSettings:
    """One loop's epochs and learning rate (the head's, or the vectors'), with the batch size,
    loss and seed that both loops take from `distill`."""

    epochs: int
    learning_rate: float
    batch_size: int
    temperature: float
    true_label_weight: float
    seed: int

    @classmethod
    def of(cls, distill: DistillParams, epochs: int, learning_rate: float) -> EpochSettings:
        return cls(
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=distill.batch_size,
            temperature=distill.temperature,
            true_label_weight=distill.true_label_weight,
            seed=distill.seed,
        )


def train_epochs(
    logits_of: Callable[[np.ndarray], torch.Tensor],
    targets: Mapping[str, np.ndarray],
    optimizers: Sequence[torch.optim.Optimizer],
    multi_label: bool,
    settings: EpochSettings,
    name: str,
) -> None:
    """`settings.epochs` passes over the rows of `targets` (its `teacher`, `truth` and
    `labelled` arrays); `logits_of` maps a batch's row indices to the student's logits."""
    rows, size = len(targets["teacher"]), settings.batch_size
    order = np.random.default_rng(settings.seed)
    steps = math.ceil(rows / size)
    for epoch in range(settings.epochs):
        permutation = order.permutation(rows)
        total = 0.0
        for step in range(steps):
            picked = np.sort(permutation[step * size : (step + 1) * size])
            batch = {key: torch.from_numpy(np.asarray(a[picked])) for key, a in targets.items()}
            loss = distillation_loss(
                logits_of(picked),
                batch["teacher"],
                batch["truth"],
                batch["labelled"],
                settings.temperature,
                settings.true_label_weight,
                multi_label,
            )
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            total += loss.item()
        print(f"  {name} epoch {epoch + 1}/{settings.epochs}: loss {total / steps:.4f}", flush=True)
