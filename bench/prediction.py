"""The repository's PyTorch prediction on token ids, as the evaluate stage runs it (length-sorted
batches under torch.inference_mode, `textclf.modeling.inference`), for the benchmarks to time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from textclf.modeling.inference import (
    batched_logits,
    is_multi_label,
    to_probabilities,
    torch_logits,
)


def predict_proba(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    input_ids: Sequence[Sequence[int]],
    batch_size: int = 64,
    progress: bool = True,
    precision: str = "auto",
    compiled: bool = False,
) -> np.ndarray:
    """Class probabilities from a PyTorch model, one row per input, in input order
    (`compiled`: see `torch_logits`)."""
    logits = batched_logits(
        torch_logits(model, precision, compiled), tokenizer, input_ids, batch_size, progress
    )
    return to_probabilities(logits, is_multi_label(model.config))
