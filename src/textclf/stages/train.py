"""Stage train: data/tokenized -> models/model, a `save_pretrained` checkpoint (safetensors,
tokenizer, id2label) fine-tuned with `transformers.Trainer`, and metrics/train.json.

Checkpoints every `train.save_steps` steps go to models/checkpoints/; a run killed mid-way
resumes from the newest one on the next `dvc repro` (see textclf.checkpoints)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from dvclive import Live
from transformers import (
    AutoTokenizer,
    DataCollatorWithPadding,
    EvalPrediction,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.integrations import DVCLiveCallback

from textclf.checkpoints import CHECKPOINT_DIR, discard, fingerprint, resumable_checkpoint
from textclf.data import TOKENIZED_DIR, TOKENIZER_DIR, load_dataset
from textclf.files import atomic_path, write_json
from textclf.metrics import TRAIN_METRICS, TRAINING_CURVES
from textclf.model import MODEL_DIR, load_model_for_training
from textclf.params import Params, TrainParams, load_params
from textclf.plots import save_training_curves
from textclf.stages import run

DVCLIVE_DIR = Path("dvclive/train")


def main() -> None:
    params = load_params()
    train = params.train
    splits = {name: TOKENIZED_DIR / f"{name}.parquet" for name in ("train", "validation")}
    resume_from = resumable_checkpoint(CHECKPOINT_DIR, run_fingerprint(params, splits))
    if resume_from:
        print(f"Resuming from {resume_from}")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    set_seed(train.seed)  # before the classification head is initialised, not only in Trainer
    model = load_model_for_training(params.model.name, params.data.classes)
    trainer = Trainer(
        model=model,
        args=training_arguments(train),
        train_dataset=load_dataset(splits["train"]),
        eval_dataset=load_dataset(splits["validation"]),
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=accuracy,
        callbacks=[dvclive_callback()] if "dvclive" in train.report_to else [],
    )
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    if trainer.is_world_process_zero():
        # model + tokenizer only: Trainer.save_model would add a pickled training_args.bin
        with atomic_path(MODEL_DIR, directory=True) as checkpoint:
            trainer.model.save_pretrained(checkpoint)
            tokenizer.save_pretrained(checkpoint)
        write_json(TRAIN_METRICS, summarize(result.metrics, trainer.state.log_history))
        save_training_curves(trainer.state.log_history, TRAINING_CURVES)
        discard(CHECKPOINT_DIR)


def run_fingerprint(params: Params, splits: dict[str, Path]) -> dict:
    settings = {
        "model": params.model.name,
        "classes": params.data.classes,
        "train": dataclasses.asdict(params.train),
    }
    return fingerprint(settings, list(splits.values()))


def training_arguments(train: TrainParams) -> TrainingArguments:
    on_gpu = torch.cuda.is_available()
    bf16 = on_gpu and torch.cuda.is_bf16_supported()
    return TrainingArguments(
        output_dir=str(CHECKPOINT_DIR),
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
        bf16=bf16,
        fp16=on_gpu and not bf16,
        # DVCLive is added as an explicit callback writing to its own per-stage directory
        report_to=[name for name in train.report_to if name != "dvclive"] or "none",
        disable_tqdm=False,
    )


class ResumableDVCLiveCallback(DVCLiveCallback):
    """DVCLive logging whose history survives a resume: DVC empties the DVCLive folder before
    the stage runs, so the log history restored from the checkpoint is replayed into it."""

    def on_train_begin(self, args, state, control, **kwargs):
        super().on_train_begin(args, state, control, **kwargs)
        for logs in state.log_history:
            self.on_log(args, state, control, logs=logs)


def dvclive_callback() -> DVCLiveCallback:
    # dvcyaml=False: plots are declared in dvc.yaml by hand; save_dvc_exp=False: this runs
    # inside `dvc repro`/`dvc exp run`, which record the experiment themselves.
    live = Live(str(DVCLIVE_DIR), dvcyaml=False, save_dvc_exp=False)
    return ResumableDVCLiveCallback(live=live)


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


if __name__ == "__main__":
    run(main)
