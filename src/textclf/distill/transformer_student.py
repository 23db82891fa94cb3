"""The transformer student: a smaller transformer trained on the teacher's softened
probabilities. By default the teacher itself with every other layer (evenly spaced, the last
one kept) as in DistilBERT's initialisation; `distill.model` names another pretrained model
instead. It is a checkpoint like the teacher's, so it exports to ONNX the same way."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import datasets
import torch
from torch import nn
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
)

from textclf.config.distill_params import DistillParams
from textclf.config.errors import ParamsError
from textclf.config.train_params import TrainParams
from textclf.distill.targets import distillation_loss
from textclf.modeling.inference import is_multi_label
from textclf.modeling.loading import load_model_for_training
from textclf.modeling.tokenizer import load_tokenizer
from textclf.train.training import training_arguments

DISTILL_MODEL = "distill.model"


class DistillError(ParamsError):
    """A student the teacher cannot make (its params line is shown)."""


def kept_layers(total: int, keep: int) -> list[int]:
    """`keep` of `total` layers, evenly spaced and ending with the last (6 -> 3: 1, 3, 5)."""
    return [round((i + 1) * total / keep) - 1 for i in range(keep)]


def check_layers(teacher_layers: int, keep: int) -> None:
    if keep >= teacher_layers:
        raise DistillError(
            f"distill.layers must be below the teacher's {teacher_layers} layers, got {keep}"
        )


def shrunk_teacher(teacher: PreTrainedModel, keep: int) -> PreTrainedModel:
    """The teacher with `keep` of its layers (its embeddings and head kept too)."""
    total = teacher.config.num_hidden_layers
    check_layers(total, keep)
    for name, module in teacher.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == total:
            parent_name, _, child = name.rpartition(".")
            parent = teacher.get_submodule(parent_name)
            setattr(parent, child, nn.ModuleList(module[i] for i in kept_layers(total, keep)))
            teacher.config.num_hidden_layers = keep
            return teacher
    raise DistillError(
        f"distill.layers: cannot find the teacher's {total} layers in its "
        f"{type(teacher).__name__}; name a smaller pretrained model in distill.model instead"
    )


class DistillationTrainer(Trainer):
    """HF's Trainer with the distillation loss (see `textclf.distill.targets`)."""

    def __init__(self, *args, temperature: float, true_label_weight: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature, self.true_label_weight = temperature, true_label_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        teacher = inputs.pop("teacher")
        truth = inputs.pop("truth")
        labelled = inputs.pop("labelled")
        outputs = model(**inputs)
        loss = distillation_loss(
            outputs.logits,
            teacher,
            truth,
            labelled,
            self.temperature,
            self.true_label_weight,
            is_multi_label(model.config),
        )
        return (loss, outputs) if return_outputs else loss


def train_transformer_student(
    student: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    soft_labels: Path,
    work: Path,
    distill: DistillParams,
    train: TrainParams,
    max_length: int,
) -> PreTrainedModel:
    """`student` trained on every row of `soft_labels` (read memory-mapped by `datasets`)."""
    rows = datasets.Dataset.from_parquet(str(soft_labels), cache_dir=str(work / "datasets"))
    rows = rows.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length),
        batched=True,
        remove_columns=["text"],
        cache_file_name=str(work / "tokenized.arrow"),
    )
    recipe = dataclasses.replace(
        train,
        epochs=distill.epochs,
        batch_size=distill.batch_size,
        learning_rate=distill.learning_rate,
        seed=distill.seed,
        max_steps=None,
        report_to=[],
        load_best=False,
        early_stopping_patience=None,
    )
    arguments = training_arguments(
        recipe,
        work / "trainer",
        eval_strategy="no",
        save_strategy="no",
        remove_unused_columns=False,  # the teacher's columns reach compute_loss
        logging_steps=max(1, len(rows) // distill.batch_size // 4),
    )
    torch.manual_seed(distill.seed)
    trainer = DistillationTrainer(
        model=student,
        args=arguments,
        train_dataset=rows,
        data_collator=DataCollatorWithPadding(tokenizer),
        temperature=distill.temperature,
        true_label_weight=distill.true_label_weight,
    )
    trainer.train()
    # mixed-precision training (bf16 on a CPU with AMX, a GPU) wraps forward in autocast: the
    # student is exported and scored as saved, in fp32, so the wrapper goes
    model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
    return model.eval()


def check_student_model(name: str, teacher_dir: Path) -> None:
    """`distill.model` learns from the teacher's token ids: its vocabulary must be the
    teacher's. Checked before the teacher labels anything, in one line naming the key."""
    student = load_tokenizer(name, DISTILL_MODEL)
    teacher = AutoTokenizer.from_pretrained(teacher_dir)
    if student.get_vocab() != teacher.get_vocab():
        raise DistillError(
            f"{DISTILL_MODEL} {name!r} has another vocabulary than the teacher ({len(student):,} "
            f"tokens against {len(teacher):,}): the student is trained on the teacher's token "
            f"ids, so name a model with the teacher's tokenizer, or leave {DISTILL_MODEL} empty "
            "(the teacher with fewer layers)"
        )


def load_student_start(
    teacher_dir: Path, distill: DistillParams, classes: list[str], multi_label: bool
) -> PreTrainedModel:
    """Where the student starts: the shrunk teacher, or `distill.model` with a new head."""
    if distill.model:
        return load_model_for_training(distill.model, classes, multi_label, DISTILL_MODEL)
    teacher = AutoModelForSequenceClassification.from_pretrained(teacher_dir, use_safetensors=True)
    return shrunk_teacher(teacher, distill.layers)
