"""The two students made from soft labels: a static model (model2vec vectors and a small head)
and a transformer with fewer layers; each written into a folder with the teacher's labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from textclf.config.distill_params import DistillParams
from textclf.config.train_params import TrainParams
from textclf.data.checkpoint_settings import checkpoint_settings_of
from textclf.distill.epochs import EpochSettings
from textclf.distill.static_student import (
    StaticScorer,
    distill_embeddings,
    save_static_student,
    train_head,
)
from textclf.distill.transformer_student import load_student_start, train_transformer_student
from textclf.distill.tuned_vectors import tune_vectors
from textclf.modeling.inference import is_multi_label

# the teacher's config entries a static student keeps: its labels, task and input settings
KEPT_CONFIG = ("id2label", "label2id", "problem_type", "textclf")


def make_static(
    teacher_dir: Path,
    config: object,
    distill: DistillParams,
    soft_labels: Path,
    folder: Path,
    test: list[str],
) -> np.ndarray:
    """The static student of the teacher in `teacher_dir` in `folder`; its probabilities on the
    `test` texts. Scratch files go beside `folder`."""
    static = distill_embeddings(teacher_dir, distill.pca_dims)
    multi_label = is_multi_label(config)
    training = EpochSettings.of(distill, distill.head_epochs, distill.head_learning_rate)
    head = train_head(static, soft_labels, folder.parent, multi_label, training, distill.hidden)
    if distill.tune_epochs:
        tuning = EpochSettings.of(distill, distill.tune_epochs, distill.tune_learning_rate)
        tune_vectors(static, head, soft_labels, folder.parent, multi_label, tuning)
    entries = config.to_dict()
    kept = {key: entries[key] for key in KEPT_CONFIG if key in entries}
    kept["num_labels"] = len(entries["id2label"])
    save_static_student(folder, static, head, kept, distill.hidden)
    return StaticScorer(folder).probabilities(test)


def make_transformer(
    teacher_dir: Path,
    config: object,
    tokenizer: PreTrainedTokenizerBase,
    distill: DistillParams,
    train: TrainParams,
    max_length: int,
    soft_labels: Path,
    folder: Path,
) -> PreTrainedModel:
    """The transformer student of the teacher in `teacher_dir`, saved with the teacher's
    tokenizer in `folder`. Scratch files go beside `folder`."""
    multi_label = is_multi_label(config)
    classes = [config.id2label[i] for i in range(config.num_labels)]
    model = load_student_start(teacher_dir, distill, classes, multi_label)
    model.config.textclf = checkpoint_settings_of(config).to_config()
    model = train_transformer_student(
        model, tokenizer, soft_labels, folder.parent, distill, train, max_length
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model
