"""The static student's training loop, shared by its head and its token vectors: the rows
shuffled anew each epoch (seeded), read in batches of sorted row indices (the arrays are on
disk: in order is faster), one step of every optimizer per batch, each epoch's mean loss
printed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch


def train_epochs(
    batch_loss: Callable[[np.ndarray], torch.Tensor],
    optimizers: Sequence[torch.optim.Optimizer],
    rows: int,
    batch_size: int,
    epochs: int,
    seed: int,
    name: str,
) -> None:
    """`epochs` passes over `rows` rows; `batch_loss` maps a batch's row indices to its loss."""
    order = np.random.default_rng(seed)
    steps = math.ceil(rows / batch_size)
    for epoch in range(epochs):
        permutation = order.permutation(rows)
        total = 0.0
        for step in range(steps):
            loss = batch_loss(np.sort(permutation[step * batch_size : (step + 1) * batch_size]))
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            total += loss.item()
        print(f"  {name} epoch {epoch + 1}/{epochs}: loss {total / steps:.4f}", flush=True)
