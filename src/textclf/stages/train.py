"""Stage train: data/tokenized -> models/model, a `save_pretrained` checkpoint (safetensors,
tokenizer, id2label) fine-tuned with `transformers.Trainer`, and metrics/train.json.

Runs under `torchrun --nproc_per_node <train.processes>` (see dvc.yaml); only rank 0 writes.
Checkpoints every `train.save_steps` steps go to models/checkpoints/; a run killed mid-way
resumes from the newest one on the next `dvc repro` (see textclf.checkpoints)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from transformers import AutoTokenizer, set_seed

from textclf.checkpoints import CHECKPOINT_DIR, discard, fingerprint, resumable_checkpoint
from textclf.data import TOKENIZED_DIR, TOKENIZER_DIR, load_dataset
from textclf.files import atomic_path, write_json
from textclf.metrics import TRAIN_METRICS, TRAINING_CURVES
from textclf.model import MODEL_DIR, load_model_for_training
from textclf.params import Params, load_params
from textclf.plots import save_training_curves
from textclf.stages import run
from textclf.training import (
    dvclive_callback,
    is_main_process,
    make_trainer,
    summarize,
    training_arguments,
    weights_digest,
)

DVCLIVE_DIR = Path("dvclive/train")


def main() -> None:
    params = load_params()
    train = params.train
    splits = {name: TOKENIZED_DIR / f"{name}.parquet" for name in ("train", "validation")}
    resume_from = resumable_checkpoint(
        CHECKPOINT_DIR, run_fingerprint(params, splits), prepare=is_main_process()
    )
    if resume_from and is_main_process():
        print(f"Resuming from {resume_from}")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    set_seed(train.seed)  # before the classification head is initialised, not only in Trainer
    model = load_model_for_training(params.model.name, params.data.classes)
    # DVCLive on rank 0 only: every Live() would clear the folder the others write to
    callbacks = [dvclive_callback(DVCLIVE_DIR)] if "dvclive" in train.report_to else []
    trainer = make_trainer(
        model,
        tokenizer,
        training_arguments(train, CHECKPOINT_DIR),
        load_dataset(splits["train"]),
        load_dataset(splits["validation"]),
        callbacks if is_main_process() else [],
        sampling=train.sampling,
    )
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    world = trainer.args.world_size
    print(
        f"rank {trainer.args.process_index}/{world}: {trainer.state.global_step} steps, "
        f"weights {weights_digest(trainer.model)}"
    )
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
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }
    return fingerprint(settings, list(splits.values()))


if __name__ == "__main__":
    run(main)
