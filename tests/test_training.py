import random
import time

import numpy as np
import pytest
from accelerate.data_loader import BatchSamplerShard
from torch.utils.data import BatchSampler

from textclf.train.sampling import BucketedSampler
from textclf.train.training import TrainingError, summarize

_rng = random.Random(0)
LENGTHS = [_rng.randint(5, 200) for _ in range(1000)]


def batches(sampler: BucketedSampler, size: int) -> list[list[int]]:
    order = list(sampler)
    return [order[i : i + size] for i in range(0, len(order), size)]


def padding_ratio(groups: list[list[int]], lengths: list[int]) -> float:
    padded = sum(len(b) * max(lengths[i] for i in b) for b in groups)
    return padded / sum(lengths[i] for b in groups for i in b)


def test_bucketed_sampler_groups_lengths_and_shuffles_batches():
    sampler = BucketedSampler(LENGTHS, bucket_size=24, seed=42)
    epoch_0 = batches(sampler, 24)
    assert sorted(i for batch in epoch_0 for i in batch) == list(range(1000))
    # little padding: random batches of 24 would pad about 90% more tokens than there are
    assert padding_ratio(epoch_0, LENGTHS) < 1.03
    assert max(LENGTHS[i] for i in epoch_0[0]) == max(LENGTHS), "longest batch first"
    # batches are not in length order (unlike a plain sort) ...
    maxima = [max(LENGTHS[i] for i in b) for b in epoch_0[1:-1]]
    assert maxima != sorted(maxima, reverse=True)
    # ... and the order is a function of seed and epoch only (a resumed run replays it)
    assert batches(BucketedSampler(LENGTHS, 24, seed=42), 24) == epoch_0
    sampler.set_epoch(1)
    assert batches(sampler, 24) != epoch_0


def test_every_batch_is_one_bucket_and_the_partial_bucket_comes_last():
    descending = sorted(LENGTHS, reverse=True)
    # the length multisets of the aligned buckets: rows 0-23, 24-47, ... of the sorted order
    buckets = {tuple(descending[i : i + 24]) for i in range(0, 984, 24)}
    for epoch in range(3):
        sampler = BucketedSampler(LENGTHS, bucket_size=24, seed=7)
        sampler.set_epoch(epoch)
        groups = batches(sampler, 24)
        assert [len(b) for b in groups] == [24] * 41 + [16]
        for batch in groups[:-1]:  # one bucket each, never the tail of one and head of another
            assert tuple(sorted((LENGTHS[i] for i in batch), reverse=True)) in buckets
        assert sorted(LENGTHS[i] for i in groups[-1]) == sorted(descending[984:])


def test_ddp_ranks_get_slices_of_one_global_bucket():
    """As accelerate shards the batches under DDP: rank r takes batch k * world + r."""
    world, per_device = 2, 12
    sampler = BucketedSampler(LENGTHS, bucket_size=per_device * world, seed=3)
    global_buckets = batches(sampler, per_device * world)
    shards = [
        list(
            BatchSamplerShard(
                BatchSampler(sampler, per_device, drop_last=False),
                num_processes=world,
                process_index=rank,
                split_batches=False,
                even_batches=False,
            )
        )
        for rank in range(world)
    ]
    for step, bucket in enumerate(global_buckets[:-1]):
        assert sorted(shards[0][step] + shards[1][step]) == sorted(bucket)


def test_sampler_reads_100k_lengths_in_well_under_a_second():
    lengths = np.random.default_rng(0).integers(5, 200, 108_000)
    start = time.perf_counter()
    assert len(list(BucketedSampler(lengths, 24, seed=0))) == 108_000
    assert time.perf_counter() - start < 1.0


def test_a_diverged_run_is_an_error_not_a_model():
    history = [{"eval_loss": float("nan"), "eval_accuracy": 0.25, "epoch": 1.0, "step": 9}]
    metrics = {"train_loss": float("nan"), "train_runtime": 1.0, "train_samples_per_second": 9}
    with pytest.raises(TrainingError, match="training diverged .*lower train.learning_rate"):
        summarize(metrics, history)


def test_a_new_head_is_one_line_not_a_missing_weights_table(tiny_bert, capfd):
    from textclf.modeling.loading import load_model_for_training

    load_model_for_training(str(tiny_bert), ["a", "b", "c"])
    captured = capfd.readouterr()
    output = captured.out + captured.err
    assert "MISSING" not in output and "LOAD REPORT" not in output, output
    assert output.strip() == (
        f"{tiny_bert}: the pretrained encoder is loaded; its classification head (3 classes) "
        "is new, as fine-tuning wants"
    )
