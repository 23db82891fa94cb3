"""The `transformers.Trainer` set-up shared by the train stage and the speed benchmark."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import datasets
import numpy as np
import torch
from dvclive import Live
from transformers import (
    DataCollatorWithPadding,
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.integrations import DVCLiveCallback

from textclf.model import autocast_dtype
from textclf.params import TrainParams


def is_main_process() -> bool:
    """True outside torchrun, and on rank 0 under it (set before Trainer exists)."""
    return int(os.environ.get("RANK", "0")) == 0


def training_arguments(
    train: TrainParams, output_dir: str | Path, **overrides
) -> TrainingArguments:
    on_gpu = torch.cuda.is_available()
    dtype = autocast_dtype(train.precision, torch.device("cuda" if on_gpu else "cpu"))
    settings = dict(
        output_dir=str(output_dir),
        seed=train.seed,
        num_train_epochs=train.epochs,
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.batch_size,
        learning_rate=train.learning_rate,
        weight_decay=train.weight_decay,
        warmup_steps=train.warmup_ratio,
        train_sampling_strategy=train.sampling,
        eval_strategy="epoch",
        save_strategy="steps",
        save_steps=train.save_steps,
        save_total_limit=1,
        logging_steps=train.logging_steps,
        use_cpu=not on_gpu,  # also what makes torchrun's CPU processes one gloo group
        optim="adamw_torch_fused" if on_gpu else "adamw_torch",
        bf16=dtype == torch.bfloat16,
        fp16=dtype == torch.float16,
        tf32=(on_gpu and torch.cuda.get_device_capability()[0] >= 8) or None,  # Ampere+
        # DVCLive is added as an explicit callback writing to its own per-stage directory
        report_to=[name for name in train.report_to if name != "dvclive"] or "none",
        disable_tqdm=False,
        ddp_find_unused_parameters=False,
    )
    return TrainingArguments(**{**settings, **overrides})


def make_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    args: TrainingArguments,
    train_dataset: datasets.Dataset,
    eval_dataset: datasets.Dataset,
    callbacks: list[TrainerCallback] | None = None,
) -> Trainer:
    return Trainer(
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
        callbacks=callbacks or [],
    )


def accuracy(prediction: EvalPrediction) -> dict[str, float]:
    predicted = np.argmax(prediction.predictions, axis=-1)
    return {"accuracy": float((predicted == prediction.label_ids).mean())}


def summarize(train_metrics: dict, log_history: list[dict]) -> dict:
    """Flat keys for `dvc metrics show`, plus eval loss/accuracy per epoch."""
    evaluations = [entry for entry in log_history if "eval_loss" in entry]
    per_epoch = {
        f"epoch_{entry['epoch']:g}": {
            "eval_loss": round(entry["eval_loss"], 6),
            "eval_accuracy": round(entry["eval_accuracy"], 6),
        }
        for entry in evaluations
    }
    last = evaluations[-1] if evaluations else {}
    return {
        "train_loss": round(train_metrics["train_loss"], 6),
        "eval_loss": round(last.get("eval_loss", float("nan")), 6),
        "eval_accuracy": round(last.get("eval_accuracy", float("nan")), 6),
        "train_runtime_s": round(train_metrics["train_runtime"], 2),
        "train_samples_per_second": round(train_metrics["train_samples_per_second"], 3),
        "epochs": per_epoch,
    }


class ResumableDVCLiveCallback(DVCLiveCallback):
    """DVCLive logging whose history survives a resume: DVC empties the DVCLive folder before
    the stage runs, so the log history restored from the checkpoint is replayed into it."""

    def on_train_begin(self, args, state, control, **kwargs):
        super().on_train_begin(args, state, control, **kwargs)
        for logs in state.log_history:
            self.on_log(args, state, control, logs=logs)


def dvclive_callback(directory: str | Path) -> DVCLiveCallback:
    # dvcyaml=False: plots are declared in dvc.yaml by hand; save_dvc_exp=False: this runs
    # inside `dvc repro`/`dvc exp run`, which record the experiment themselves.
    live = Live(str(directory), dvcyaml=False, save_dvc_exp=False)
    return ResumableDVCLiveCallback(live=live)


def weights_digest(model: torch.nn.Module) -> str:
    """A short hash of every parameter's bytes: equal on all ranks after synchronised steps."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
