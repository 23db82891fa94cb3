import random

from textclf.training import BucketedSampler


def batches(sampler: BucketedSampler, size: int) -> list[list[int]]:
    order = list(sampler)
    return [order[i : i + size] for i in range(0, len(order), size)]


def test_bucketed_sampler_groups_lengths_and_shuffles_batches():
    rng = random.Random(0)
    lengths = [rng.randint(5, 200) for _ in range(1000)]
    sampler = BucketedSampler(lengths, batch_size=24, seed=42)
    epoch_0 = batches(sampler, 24)
    assert sorted(i for batch in epoch_0 for i in batch) == list(range(1000))
    # little padding: lengths inside a batch are neighbours in the sorted order
    padding = sum(24 * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in epoch_0)
    assert padding < 0.1 * sum(lengths)  # random batches of 24 would pad about 90%
    assert max(lengths[i] for i in epoch_0[0]) == max(lengths), "longest batch first"
    # batches are not in length order (unlike a plain sort) ...
    maxima = [max(lengths[i] for i in b) for b in epoch_0[1:]]
    assert maxima != sorted(maxima, reverse=True)
    # ... and the order is a function of seed and epoch only (a resumed run replays it)
    assert batches(BucketedSampler(lengths, 24, seed=42), 24) == epoch_0
    sampler.set_epoch(1)
    assert batches(sampler, 24) != epoch_0
