"""Length-bucketed training batches: little padding, batches in random order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler


class BucketedSampler(Sampler[int]):
    """Batches of texts of similar length, in random order: little padding, like HF's
    `group_by_length`, without its long-to-short order inside each mega-batch.

    Each epoch, rows are shuffled (so equal lengths tie at random), sorted by length over the
    whole set and cut into buckets of `bucket_size` rows; the full buckets are shuffled, the
    longest kept first so that an out-of-memory error shows at once, and the one partial bucket
    comes last, so every batch boundary stays on a bucket boundary. With `bucket_size` the global
    batch (per-device batch x processes), each process's batch is a slice of one bucket. The
    order depends only on the seed and the epoch, so a resumed run replays it.
    """

    def __init__(self, lengths: Sequence[int], bucket_size: int, seed: int):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.bucket_size, self.seed, self.epoch = bucket_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        shuffled = torch.randperm(len(self.lengths), generator=generator).numpy()
        ordered = shuffled[np.argsort(-self.lengths[shuffled], kind="stable")]
        full = len(ordered) // self.bucket_size
        buckets = ordered[: full * self.bucket_size].reshape(full, self.bucket_size)
        if full > 1:
            rest = 1 + torch.randperm(full - 1, generator=generator).numpy()
            buckets = buckets[np.concatenate([[0], rest])]
        yield from buckets.ravel().tolist()
        yield from ordered[full * self.bucket_size :].tolist()
