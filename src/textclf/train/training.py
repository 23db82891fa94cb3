"""The `transformers.Trainer` set-up shared by the train stage and the speed benchmark."""

from __future__ import annotations

import hashlib
import os
from functools import partial
from pathlib import Path

import datasets
import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit
from sklearn.metrics import f1_score
from transformers import (
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from textclf.config.errors import UserError
from textclf.config.train_params import TrainParams
from textclf.evaluate.multilabel import multilabel_scores
from textclf.modeling.compiled import PAD_MULTIPLE, compile_wanted, compiled_training_arguments
from textclf.modeling.device import autocast_dtype, inference_device
from textclf.modeling.inference import is_multi_label
from textclf.train.checkpoints import SaveAtEpochEnd
from textclf.train.dropout import use_cpu_dropout
from textclf.train.sampling import BucketedSampler
from textclf.train.tracking import LogLastStep


class TrainingError(UserError):
    """Training finished but its result is unusable (e.g. the loss diverged to NaN)."""


def is_main_process() -> bool:
    """True outside torchrun, and on rank 0 under it (set before Trainer exists)."""
    return int(os.environ.get("RANK", "0")) == 0


def training_arguments(
    train: TrainParams, output_dir: str | Path, **overrides
) -> TrainingArguments:
    on_gpu = torch.cuda.is_available()
    device = inference_device()
    dtype = autocast_dtype(train.precision, device)
    settings = dict(
        output_dir=str(output_dir),
        seed=train.seed,
        num_train_epochs=train.epochs,
        max_steps=train.max_steps or -1,  # -1: the epochs decide
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
        save_total_limit=1,  # with load_best the Trainer keeps the best checkpoint too
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
    if compile_wanted(train.compile, device):
        settings.update(compiled_training_arguments(device))
    if train.load_best or train.early_stopping_patience:
        # the Trainer's own best-checkpoint tracking compares evaluations at saved checkpoints:
        # one per epoch, so a killed run resumes from the end of its last whole epoch
        settings.update(
            save_strategy="epoch",
            load_best_model_at_end=train.load_best,
            metric_for_best_model=train.best_metric,  # lower is better for "loss" only
        )
    return TrainingArguments(**{**settings, **overrides})


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
    class_weights: np.ndarray | None = None,
    threshold: float = 0.5,
    early_stopping_patience: int | None = None,
    cpu_dropout: bool = False,
) -> Trainer:
    """A Trainer for `args`; `sampling="bucketed"` draws batches from a `BucketedSampler`
    (the other samplings are set in `args.train_sampling_strategy`). `class_weights` weigh the
    loss per class; a multi-label model (`problem_type`) is scored at `threshold`.
    Training on CPU, `cpu_dropout` (`train.cpu_dropout`) draws dropout masks with
    `textclf.train.dropout` instead of torch's."""
    multi_label = is_multi_label(model.config)
    # the CPU dropout registers an attention function of its own, which compiling would trace
    if cpu_dropout and args.device.type == "cpu" and not args.torch_compile:
        use_cpu_dropout(model)
    # compiled: a few batch shapes, each compiled (on CUDA: captured) once; else multiples of 8
    # let GPU tensor cores work on whole tiles
    gpu_multiple = 8 if torch.cuda.is_available() else None
    pad_to = PAD_MULTIPLE if args.torch_compile else gpu_multiple
    callbacks = [LogLastStep(), SaveAtEpochEnd(), *(callbacks or [])]
    if early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience))
    return BucketedTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_to),
        compute_metrics=partial(validation_metrics, multi_label=multi_label, threshold=threshold),
        compute_loss_func=None
        if class_weights is None
        else partial(weighted_loss, weights=torch.tensor(class_weights), multi_label=multi_label),
        callbacks=callbacks,
        bucketed=sampling == "bucketed",
    )


def weighted_loss(
    outputs: dict,
    labels: torch.Tensor,
    weights: torch.Tensor,
    multi_label: bool,
    num_items_in_batch: torch.Tensor | int | None = None,
) -> torch.Tensor:
    """The model's own loss (cross-entropy, or BCE for multi-label) with a weight per class
    (`pos_weight` per label), as `Trainer(compute_loss_func=...)` calls it: summed and divided
    by the Trainer's count of labels in the whole (accumulated, all-process) batch when it
    gives one, so gradient accumulation and DDP scale it as they scale the model's own loss."""
    logits = outputs["logits"].float()
    weights = weights.to(logits.device, torch.float32)
    reduction = "mean" if num_items_in_batch is None else "sum"
    if multi_label:
        loss = F.binary_cross_entropy_with_logits(
            logits, labels.float(), pos_weight=weights, reduction=reduction
        )
    else:
        loss = F.cross_entropy(logits, labels.view(-1), weight=weights, reduction=reduction)
    return loss if num_items_in_batch is None else loss / num_items_in_batch


def validation_metrics(
    prediction: EvalPrediction, multi_label: bool = False, threshold: float = 0.5
) -> dict[str, float]:
    """What `train.best_metric` can choose from, besides the loss."""
    logits, labels = prediction.predictions, prediction.label_ids
    if multi_label:
        return multilabel_scores(labels, expit(logits) >= threshold)
    predicted = np.argmax(logits, axis=-1)
    classes = list(range(logits.shape[-1]))
    f1 = f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)
    return {"accuracy": float((predicted == labels).mean()), "f1_macro": float(f1)}


def summarize(train_metrics: dict, log_history: list[dict], best_step: int | None = None) -> dict:
    """Flat keys for `dvc metrics show`: the train loss and the validation metrics of the kept
    epoch (`best_step`'s with `train.load_best`, else the last), which epoch that is, and the
    validation metrics of every epoch.

    Raises TrainingError if the loss is not a finite number: a diverged model is not an output.
    """
    evaluations = [entry for entry in log_history if "eval_loss" in entry]
    losses = [train_metrics["train_loss"], *(entry["eval_loss"] for entry in evaluations)]
    if not all(np.isfinite(loss) for loss in losses):
        raise TrainingError(
            f"training diverged (train loss {train_metrics['train_loss']:g}); nothing was "
            "written: lower train.learning_rate"
        )
    per_epoch = {f"epoch_{entry['epoch']:g}": scores(entry) for entry in evaluations}
    train_loss = whole_run_loss(log_history) or train_metrics["train_loss"]
    summary = {"train_loss": round(train_loss, 6)}
    if evaluations:
        kept = next((e for e in evaluations if e["step"] == best_step), evaluations[-1])
        summary.update(scores(kept))
        summary["kept_epoch"] = round(kept["epoch"], 6)
        summary["epochs_run"] = round(evaluations[-1]["epoch"], 6)
    return {
        **summary,
        "train_runtime_s": round(train_metrics["train_runtime"], 2),
        "train_samples_per_second": round(train_metrics["train_samples_per_second"], 3),
        "epochs": per_epoch,
    }


def whole_run_loss(log_history: list[dict]) -> float | None:
    """The mean train loss over every step of the run, from the logged losses (each the mean
    over the steps since the previous log) weighted by their steps. The Trainer's own
    `train_loss` counts only the steps of the last session: after a resume it would differ
    from an uninterrupted run's although the weights are the same."""
    total, previous = 0.0, 0
    for entry in log_history:
        if "loss" in entry and entry["step"] > previous:
            total += entry["loss"] * (entry["step"] - previous)
            previous = entry["step"]
    return total / previous if previous else None


def scores(evaluation: dict) -> dict[str, float]:
    """An evaluation's validation metrics (eval_loss, eval_accuracy, ...), without timings."""
    timings = ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second")
    return {
        key: round(value, 6)
        for key, value in evaluation.items()
        if key.startswith("eval_") and key not in timings
    }


def weights_digest(model: torch.nn.Module) -> str:
    """A short hash of every parameter's bytes: equal on all ranks after synchronised steps."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
