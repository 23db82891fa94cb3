"""A model's class probabilities for every text of a tokenized split, in the prepared split's
row order (the inputs of a text cut into chunks averaged): what evaluate scores on test and the
train stage on validation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from textclf.config.files import atomic_path
from textclf.config.paths import PREPARED_DIR
from textclf.config.train_params import TrainParams
from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.cutting import encode_cut
from textclf.data.schema import Schema
from textclf.data.text import model_inputs
from textclf.data.tokenized import TokenRows, read_tokenized
from textclf.evaluate.predictions import prediction_table
from textclf.modeling.compiled import compile_wanted
from textclf.modeling.inference import document_probabilities, is_multi_label, torch_logits


def score_split(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    split: str,
    precision: str = "auto",
    batch_size: int = 64,
    progress: bool = True,
    compiled: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The prepared `split` (`text`, `label`) and the model's probabilities, row for row
    (`compiled`: through torch.compile, see `textclf.modeling.compiled`)."""
    inputs = read_tokenized(split, ["input_ids", "document"])
    prepared = pd.read_parquet(PREPARED_DIR / f"{split}.parquet")
    probabilities = document_probabilities(
        torch_logits(model.eval(), precision, compiled),
        tokenizer,
        TokenRows(inputs.column("input_ids")),
        inputs.column("document").to_numpy(),
        len(prepared),
        is_multi_label(model.config),
        batch_size,
        progress,
    )
    return prepared, probabilities


def score_texts(
    logits: Callable[[dict[str, np.ndarray]], np.ndarray],
    tokenizer: PreTrainedTokenizerBase,
    settings: CheckpointSettings,
    texts: Sequence[str],
    multi_label: bool = False,
    batch_size: int = 64,
    progress: bool = False,
) -> np.ndarray:
    """Probabilities of new `texts` (one row each), cleaned and cut as in training (`settings`),
    from a batch function (`torch_logits`, or an ONNX Runtime session's)."""
    encoded = encode_cut(
        tokenizer,
        model_inputs(texts, settings.clean_backslashes),
        settings.truncation,
        settings.chunk_overlap,
    )
    return document_probabilities(
        logits,
        tokenizer,
        encoded["input_ids"],
        encoded["document"],
        len(texts),
        multi_label,
        batch_size,
        progress,
    )


def write_predictions(
    path: Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    split: str,
    schema: Schema,
    train: TrainParams,
) -> None:
    """The model's predictions on `split` as `path` (predictions.csv's columns), atomically."""
    compiled = compile_wanted(train.compile, model.device)
    prepared, probabilities = score_split(
        model, tokenizer, split, train.precision, train.batch_size, False, compiled
    )
    table = prediction_table(
        prepared["text"],
        prepared["label"].tolist(),
        probabilities,
        schema.classes,
        schema.multi_label,
        train.threshold,
        schema.label_separator,
    )
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
