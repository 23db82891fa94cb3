"""Stage train: data/tokenized -> models/trained, a `save_pretrained` checkpoint (safetensors,
tokenizer, id2label) fine-tuned with `transformers.Trainer`, metrics/train.json and the
trackers' logs (dvclive/train/, logs/train/).

With `train.processes` > 1 this command launches itself under torchrun (c10d on this machine),
after checking params, so the process count never reaches a shell; started by torchrun (several
machines, see README), it is one worker. Only rank 0 writes. Checkpoints every
`train.save_steps` steps and at each epoch's end go to models/checkpoints/; a run stopped
mid-way (Ctrl-C, SIGTERM, a kill) resumes from the newest one on the next `dvc repro` (see
textclf.train.checkpoints)."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from transformers import AutoTokenizer, set_seed

from textclf.config.errors import ParamsError
from textclf.config.files import atomic_path, write_json
from textclf.config.model_params import ModelParams, TokenizeParams
from textclf.config.paths import (
    CHECKPOINT_DIR,
    PREPARED_DIR,
    SCHEMA_FILE,
    TOKENIZER_DIR,
    TRAIN_METRICS,
    TRAINED_DIR,
    TRAINING_CURVES,
    VALIDATION_METRICS,
    VALIDATION_PREDICTIONS,
)
from textclf.config.sections import load_sections
from textclf.config.train_params import BEST_METRICS, TrainParams
from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.class_weights import class_weights
from textclf.data.schema import read_schema
from textclf.data.tables import label_counts_of, read_truncation
from textclf.data.tokenized import load_dataset, tokenized_files
from textclf.evaluate.plots import save_training_curves
from textclf.evaluate.scoring import write_predictions
from textclf.modeling.loading import load_model_for_training
from textclf.stages import run
from textclf.train.checkpoints import discard, fingerprint, resumable_checkpoint
from textclf.train.schedule import plan, scheduled_params
from textclf.train.tracking import check_trackers, tracker_callbacks
from textclf.train.training import (
    TrainingError,
    is_main_process,
    make_trainer,
    summarize,
    training_arguments,
    weights_digest,
)
from textclf.tuning.pruning import pruning_callbacks


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs):
    tokenize, only to check that no value it trained with changed meanwhile."""

    model: ModelParams
    tokenize: TokenizeParams
    train: TrainParams


def main() -> None:
    params = load_sections(Sections)
    if params.train.processes > 1 and "LOCAL_RANK" not in os.environ:
        launch_workers(params.train.processes)
    else:
        train(params)


def launch_workers(processes: int) -> None:
    """This stage under torchrun, `processes` workers on this machine; a worker's failure
    ends here with the worker's own one-line error, not the launcher's report."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser
    from torch.distributed.run import run as torchrun

    # the launcher's own reports (a 30-line ChildFailedError block) would bury the worker's line
    logging.getLogger("torch.distributed").setLevel(logging.CRITICAL)
    # the workers share this machine's cores (torchrun would set 1 and warn about it)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    arguments = ["--standalone", f"--nproc-per-node={processes}", "-m", __spec__.name]
    try:
        torchrun(get_args_parser().parse_args(arguments))
    except ChildFailedError:
        sys.exit(1)  # the worker has printed its error


def train(params: Sections) -> None:
    train = params.train
    shards = [path for split in ("train", "validation") for path in tokenized_files(split)]
    schema = read_schema()
    classes, multi_label = schema.classes, schema.multi_label
    check_best_metric(train.best_metric, multi_label)  # before anything is written
    check_trackers(train.report_to)
    resume_from = resumable_checkpoint(
        CHECKPOINT_DIR, run_fingerprint(params, shards), prepare=is_main_process()
    )
    if resume_from and is_main_process():
        print(f"Resuming from {resume_from}")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    counts, rows = label_counts_of(PREPARED_DIR / "train.parquet", len(classes))
    weights = class_weights(train.class_weights, counts, rows, multi_label)
    schedule = plan(train, rows, int(os.environ.get("WORLD_SIZE", "1")))
    if is_main_process():
        print(f"Training {schedule.epochs:g} epochs, {schedule.steps} steps: {schedule.reason}")
    set_seed(train.seed)  # before the classification head is initialised, not only in Trainer
    model = load_model_for_training(params.model.name, classes, multi_label)
    # what `predict` and `serve` need to treat new text as training did: how the text is built
    # from a file's columns, how long texts are cut, and the multi-label decision threshold
    model.config.textclf = CheckpointSettings(
        **schema.text_settings(),
        **read_truncation(),
        threshold=train.threshold if multi_label else None,
    ).to_config()
    trainer = make_trainer(
        model,
        tokenizer,
        training_arguments(scheduled_params(train, schedule), CHECKPOINT_DIR),
        load_dataset("train"),
        load_dataset("validation"),
        [*tracker_callbacks(train.report_to, is_main_process()), *pruning_callbacks()],
        sampling=train.sampling,
        class_weights=weights if train.class_weights != "none" else None,
        threshold=train.threshold,
        early_stopping_patience=train.early_stopping_patience,
        cpu_dropout=train.cpu_dropout,
    )
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    world = trainer.args.world_size
    print(
        f"rank {trainer.args.process_index}/{world}: {trainer.state.global_step} steps, "
        f"weights {weights_digest(trainer.model)}"
    )
    if trainer.is_world_process_zero():
        check_params_unchanged(params)
        kept_best = train.load_best or schedule.added
        best_step = trainer.state.best_global_step if kept_best else None
        summary = summarize(result.metrics, trainer.state.log_history, best_step)
        summary["schedule"] = schedule.report(train)
        # model + tokenizer only: Trainer.save_model would add a pickled training_args.bin
        with atomic_path(TRAINED_DIR, directory=True) as checkpoint:
            trainer.model.save_pretrained(checkpoint)
            tokenizer.save_pretrained(checkpoint)
        write_json(TRAIN_METRICS, summary)
        write_json(VALIDATION_METRICS, {k: v for k, v in summary.items() if k.startswith("eval_")})
        save_training_curves(trainer.state.log_history, TRAINING_CURVES)
        # what `textclf search` compares recipes on: the test split stays held out
        write_predictions(
            VALIDATION_PREDICTIONS, trainer.model, tokenizer, "validation", schema, train
        )
        discard(CHECKPOINT_DIR)


def check_params_unchanged(trained_with: Sections) -> None:
    """TrainingError if params.yaml's model, tokenize or train values are no longer those this
    run trained with (a second `dvc exp run` wrote its `-S` values meanwhile): the outputs
    would be recorded under params they were not made with."""
    now = load_sections(Sections)
    for section in ("model", "tokenize", "train"):
        before = dataclasses.asdict(getattr(trained_with, section))
        after = dataclasses.asdict(getattr(now, section))
        for key, value in before.items():
            if after[key] != value:
                raise TrainingError(
                    f"params.yaml changed while training ({section}.{key} {value!r} -> "
                    f"{after[key]!r}): this run trained with the old value, so nothing is "
                    "written; run experiments one at a time (dvc exp run --queue, or --temp)"
                )


def check_best_metric(metric: str, multi_label: bool) -> None:
    """ParamsError unless the validation metrics of this task include `metric`."""
    available = BEST_METRICS if multi_label else ("loss", "accuracy", "f1_macro")
    if metric not in available:
        task = "multi-label" if multi_label else "single-label"
        raise ParamsError(
            f"train.best_metric {metric!r} is not a {task} validation metric "
            f"({', '.join(available)})"
        )


def run_fingerprint(params: Sections, shards: list[Path]) -> dict:
    settings = {
        "model": params.model.name,
        "train": dataclasses.asdict(params.train),
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }
    return fingerprint(settings, [*shards, SCHEMA_FILE])


if __name__ == "__main__":
    run(main)
