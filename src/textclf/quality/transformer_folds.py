"""`quality.model: transformer`: out-of-fold probabilities from one fine-tune per fold, with
the train params (the same schedule rules, `train.min_steps` included), each fold's model
choosing its epochs on the validation split, never on the fold it scores.

A fold's probabilities are kept in models/quality-folds/ as soon as it finishes, under a
fingerprint of the params and the tokenized inputs: a run that was stopped resumes at the first
fold it had not finished (as train resumes from models/checkpoints/)."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
from transformers import AutoTokenizer, set_seed

from textclf.config.files import atomic_path, read_json, write_json
from textclf.config.model_params import ModelParams
from textclf.config.paths import FOLD_DIR, TOKENIZER_DIR
from textclf.config.quality_params import QualityParams
from textclf.config.train_params import TrainParams
from textclf.data.class_weights import class_weights
from textclf.data.labels import label_counts
from textclf.data.tokenized import TokenRows, load_dataset, read_tokenized, tokenized_files
from textclf.modeling.inference import document_probabilities, torch_logits
from textclf.modeling.loading import load_model_for_training
from textclf.quality.out_of_fold import FoldModel
from textclf.train.checkpoints import FINGERPRINT_FILE, discard, fingerprint
from textclf.train.schedule import plan, scheduled_params
from textclf.train.training import make_trainer, training_arguments


@dataclass(frozen=True)
class FoldSections:
    """The params.yaml sections a fold's fine-tune reads."""

    model: ModelParams
    train: TrainParams
    quality: QualityParams


def transformer_fold_model(
    params: FoldSections, classes: list[str], labels: list, multi_label: bool
) -> FoldModel:
    """Fit `params.model.name` on the given rows of the tokenized train split, score the
    held-out ones; each fold's result read back from FOLD_DIR when it is already there."""
    train = dataclasses.replace(params.train, report_to=[])  # a fold is not a tracked run
    shards = tokenized_files("train") + tokenized_files("validation")
    settings = {
        "model": params.model.name,
        "train": dataclasses.asdict(train),
        "quality": dataclasses.asdict(params.quality),
    }
    keep_matching_folds(fingerprint(settings, shards))
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    dataset, validation = load_dataset("train"), load_dataset("validation")
    inputs = read_tokenized("train", ["input_ids", "document"])
    documents = inputs.column("document").to_numpy()
    label_ids = None if multi_label else np.asarray(labels, dtype=np.int64)

    def fit_and_score(fitted_on: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        done = FOLD_DIR / f"fold-{int(held_out[0])}-{len(held_out)}.parquet"
        if done.is_file():
            print(f"{done}: this fold was finished by an earlier run", flush=True)
            return pd.read_parquet(done).to_numpy()
        fold_labels = [labels[i] for i in fitted_on] if multi_label else label_ids[fitted_on]
        counts = label_counts(fold_labels, len(classes))
        weights = class_weights(train.class_weights, counts, len(fitted_on), multi_label)
        schedule = plan(train, len(fitted_on))
        set_seed(train.seed)
        model = load_model_for_training(params.model.name, classes, multi_label)
        with tempfile.TemporaryDirectory(dir=FOLD_DIR) as scratch:
            trainer = make_trainer(
                model,
                tokenizer,
                training_arguments(scheduled_params(train, schedule), scratch),
                dataset.select(np.flatnonzero(np.isin(documents, fitted_on))),
                validation,
                sampling=train.sampling,
                class_weights=weights if train.class_weights != "none" else None,
                threshold=train.threshold,
                early_stopping_patience=train.early_stopping_patience,
                cpu_dropout=train.cpu_dropout,
            )
            trainer.train()
        rows = np.flatnonzero(np.isin(documents, held_out))
        probabilities = document_probabilities(
            torch_logits(trainer.model.eval(), train.precision),
            tokenizer,
            TokenRows(inputs.column("input_ids").take(rows)),
            np.searchsorted(held_out, documents[rows]),
            len(held_out),
            multi_label,
            train.batch_size,
            progress=False,
        )
        with atomic_path(done) as temporary:
            pd.DataFrame(probabilities, columns=classes).to_parquet(temporary)
        return probabilities

    return fit_and_score


def keep_matching_folds(expected: dict) -> None:
    """Keep FOLD_DIR's finished folds if an earlier run of the same settings on the same
    inputs wrote them; otherwise start it afresh."""
    recorded = FOLD_DIR / FINGERPRINT_FILE
    if recorded.is_file() and read_json(recorded) == expected:
        return
    discard(FOLD_DIR)
    FOLD_DIR.mkdir(parents=True)
    write_json(recorded, expected)
