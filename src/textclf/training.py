"""The `transformers.Trainer` set-up shared by the train stage and the speed benchmark."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import datasets
import numpy as np
import torch
from torch.utils.data import Sampler
from transformers import (
    DataCollatorWithPadding,
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from textclf.errors import UserError
from textclf.model import autocast_dtype, inference_device
from textclf.params import TrainParams
from textclf.tracking import LogLastStep


class TrainingError(UserError):
    """Training finished but its result is unusable (e.g. the loss diverged to NaN)."""


def is_main_process() -> bool:
    """True outside torchrun, and on rank 0 under it (set before Trainer exists)."""
    return int(os.environ.get("RANK", "0")) == 0


def training_arguments(
    train: TrainParams, output_dir: str | Path, **overrides
) -> TrainingArguments:
    on_gpu = torch.cuda.is_available()
    dtype = autocast_dtype(train.precision, inference_device())
    settings = dict(
        output_dir=str(output_dir),
        seed=train.seed,
        num_train_epochs=train.epochs,
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.batch_size,
        learning_rate=train.learning_rate,
        weight_decay=train.weight_decay,
        warmup_steps=train.warmup_ratio,
        # "bucketed" is this repository's sampler (see BucketedTrainer); the rest are HF's
        train_sampling_strategy="random" if train.sampling == "bucketed" else train.sampling,
        eval_strategy="epoch",
        save_strategy="steps",
        save_steps=train.save_steps,
        save_total_limit=1,
        logging_steps=train.logging_steps,
        logging_first_step=True,  # a loss curve from step 1, even for runs shorter than a log
        use_cpu=not on_gpu,  # also what makes torchrun's CPU processes one gloo group
        # one fused kernel per step instead of a loop over parameter tensors, on GPU and CPU
        optim="adamw_torch_fused",
        bf16=dtype == torch.bfloat16,
        fp16=dtype == torch.float16,
        tf32=(on_gpu and torch.cuda.get_device_capability()[0] >= 8) or None,  # Ampere+
        # DVCLive is added as an explicit callback writing to its own per-stage directory
        report_to=[name for name in train.report_to if name != "dvclive"] or "none",
        disable_tqdm=False,
        ddp_find_unused_parameters=False,
    )
    return TrainingArguments(**{**settings, **overrides})


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


class BucketedTrainer(Trainer):
    """A Trainer that can draw training batches from a `BucketedSampler`."""

    def __init__(self, *args, bucketed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.bucketed = bucketed

    def _get_train_sampler(self, train_dataset=None):
        if not self.bucketed:
            return super()._get_train_sampler(train_dataset)
        # the dataset passed in has lost its unused columns, `length` among them; rows are the same.
        # Arrow, not a `datasets` Column: reading 100k lengths takes milliseconds, not seconds.
        lengths = np.asarray(self.train_dataset.with_format("arrow")["length"])
        # one bucket per global batch: every rank gets a share of similar length
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return BucketedSampler(lengths, batch * self.args.world_size, self.args.seed)


def make_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    args: TrainingArguments,
    train_dataset: datasets.Dataset,
    eval_dataset: datasets.Dataset,
    callbacks: list[TrainerCallback] | None = None,
    sampling: str = "random",
) -> Trainer:
    """A Trainer for `args`; `sampling="bucketed"` draws batches from a `BucketedSampler`
    (the other samplings are set in `args.train_sampling_strategy`)."""
    return BucketedTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        # multiples of 8 let GPU tensor cores work on whole tiles
        data_collator=DataCollatorWithPadding(
            tokenizer, pad_to_multiple_of=8 if torch.cuda.is_available() else None
        ),
        compute_metrics=accuracy,
        callbacks=[LogLastStep(), *(callbacks or [])],
        bucketed=sampling == "bucketed",
    )


def accuracy(prediction: EvalPrediction) -> dict[str, float]:
    predicted = np.argmax(prediction.predictions, axis=-1)
    return {"accuracy": float((predicted == prediction.label_ids).mean())}


def summarize(train_metrics: dict, log_history: list[dict]) -> dict:
    """Flat keys for `dvc metrics show`, plus eval loss/accuracy per epoch.

    Raises TrainingError if the loss is not a finite number: a diverged model is not an output.
    """
    evaluations = [entry for entry in log_history if "eval_loss" in entry]
    losses = [train_metrics["train_loss"], *(entry["eval_loss"] for entry in evaluations)]
    if not all(np.isfinite(loss) for loss in losses):
        raise TrainingError(
            f"training diverged (train loss {train_metrics['train_loss']:g}); nothing was "
            "written: lower train.learning_rate"
        )
    per_epoch = {
        f"epoch_{entry['epoch']:g}": {
            "eval_loss": round(entry["eval_loss"], 6),
            "eval_accuracy": round(entry["eval_accuracy"], 6),
        }
        for entry in evaluations
    }
    summary = {"train_loss": round(train_metrics["train_loss"], 6)}
    if evaluations:
        summary["eval_loss"] = round(evaluations[-1]["eval_loss"], 6)
        summary["eval_accuracy"] = round(evaluations[-1]["eval_accuracy"], 6)
    return {
        **summary,
        "train_runtime_s": round(train_metrics["train_runtime"], 2),
        "train_samples_per_second": round(train_metrics["train_samples_per_second"], 3),
        "epochs": per_epoch,
    }


def weights_digest(model: torch.nn.Module) -> str:
    """A short hash of every parameter's bytes: equal on all ranks after synchronised steps."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
