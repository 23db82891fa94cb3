"""Loading models: a pretrained encoder with a new head for training, and a fine-tuned
checkpoint (as the train stage writes it) for inference; safetensors only."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from textclf.config.distill_params import NO_STUDENT, NO_STUDENT_REMEDY
from textclf.config.errors import UserError
from textclf.config.paths import MODEL_DIR
from textclf.modeling.device import inference_device
from textclf.modeling.hub import from_pretrained


class CheckpointError(UserError):
    """A fine-tuned checkpoint folder is missing or incomplete."""


def load_model_for_training(
    name: str, classes: Sequence[str], multi_label: bool = False, key: str = "model.name"
) -> PreTrainedModel:
    """A pretrained encoder with a fresh classification head labelled with `classes`; the
    config's `problem_type` tells the model (and `transformers.pipeline`) to use sigmoid + BCE
    for a multi-label task."""
    problem = "multi_label_classification" if multi_label else "single_label_classification"
    # the load report's MISSING-weights table is what a new head always looks like: one line
    # says so instead, and the progress bar of a few hundred tensors goes too
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        model = from_pretrained(
            AutoModelForSequenceClassification,
            name,
            key,
            problem_type=problem,
            num_labels=len(classes),
            id2label=dict(enumerate(classes)),
            label2id={label: index for index, label in enumerate(classes)},
            ignore_mismatched_sizes=True,
            use_safetensors=True,
        )
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    print(
        f"{name}: the pretrained encoder is loaded; its classification head "
        f"({len(classes)} {'labels' if multi_label else 'classes'}) is new, as fine-tuning wants",
        file=sys.stderr,
    )
    return model


def load_classifier(
    path: str | Path = MODEL_DIR,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A fine-tuned checkpoint (as written by the train stage) ready for inference."""
    path = require_checkpoint(path)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(path, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0]
        raise CheckpointError(f"{path}: incomplete checkpoint ({reason})") from None
    return model.to(inference_device()).eval(), tokenizer


def require_checkpoint(path: str | Path) -> Path:
    """`path` as a checkpoint folder; CheckpointError if it holds none, saying how to get one
    (the distill stage's marker of `distill.student: none` is not fixed by a rerun)."""
    path = Path(path)
    if (path / "config.json").is_file():
        return path
    marker = path / "README.md"
    if marker.is_file() and marker.read_text(encoding="utf-8", errors="replace") == NO_STUDENT:
        raise CheckpointError(f"{path}: no student was made here: {NO_STUDENT_REMEDY}")
    raise CheckpointError(f"{path}: no checkpoint here (run `dvc repro` or `dvc pull`)")
