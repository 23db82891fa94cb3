"""Batched inference of a classifier: logits of padded batches (PyTorch here, ONNX Runtime in
`ship`), averaged over a text's chunks, as probabilities."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.special import expit, softmax
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from textclf.data.truncation import average_by_document
from textclf.modeling.compiled import compiled_model, padded_batch
from textclf.modeling.device import autocast_dtype


def is_multi_label(config: object) -> bool:
    return getattr(config, "problem_type", None) == "multi_label_classification"


def to_probabilities(logits: np.ndarray, multi_label: bool = False) -> np.ndarray:
    """Softmax over the classes, or a sigmoid per label for a multi-label model."""
    return expit(logits) if multi_label else softmax(logits, axis=1)


def document_probabilities(
    logits: Callable[[dict[str, np.ndarray]], np.ndarray],
    tokenizer: PreTrainedTokenizerBase,
    input_ids: Sequence[Sequence[int]],
    document: Sequence[int],
    texts: int,
    multi_label: bool = False,
    batch_size: int = 64,
    progress: bool = True,
) -> np.ndarray:
    """Probabilities of `texts` texts whose inputs are `input_ids`, input i from text
    `document[i]`: the logits of a text's inputs (its chunks) are averaged first."""
    per_input = batched_logits(logits, tokenizer, input_ids, batch_size, progress)
    return to_probabilities(average_by_document(per_input, document, texts), multi_label)


def torch_logits(
    model: PreTrainedModel, precision: str = "auto", compiled: bool = False
) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """`model` as a function from a padded numpy batch to numpy logits (see `batched_logits`);
    `compiled`: through `torch.compile` (see `textclf.modeling.compiled`), on batches padded to a
    few widths."""
    device = model.device
    dtype = autocast_dtype(precision, device)
    forward = compiled_model(model) if compiled else model

    def logits(batch: dict[str, np.ndarray]) -> np.ndarray:
        rows = padded_batch(batch) if compiled else batch
        tensors = {name: torch.from_numpy(values).to(device) for name, values in rows.items()}
        # compiled code runs under no_grad: inference tensors would be new inputs to its graphs
        no_grad = torch.no_grad() if compiled else torch.inference_mode()
        with no_grad, torch.autocast(device.type, dtype, enabled=bool(dtype)):
            return forward(**tensors).logits.float().cpu().numpy()

    return logits


def batched_logits(
    logits: Callable[[dict[str, np.ndarray]], np.ndarray],
    tokenizer: PreTrainedTokenizerBase,
    input_ids: Sequence[Sequence[int]],
    batch_size: int = 64,
    progress: bool = True,
) -> np.ndarray:
    """`logits` (any runtime: a padded int64 `input_ids`/`attention_mask` batch in, logits out)
    of every input, one row per input, in input order.

    Inputs are batched by length (longest first, so memory trouble shows at once) to keep
    padding, and so wasted compute, small.
    """
    order = np.argsort([-len(ids) for ids in input_ids], kind="stable")
    parts = []
    batches = range(0, len(order), batch_size)
    # no bar object at all without progress: a served one-text request makes one per call
    for start in tqdm(batches, desc="predict", unit="batch") if progress else batches:
        rows = order[start : start + batch_size]
        batch = tokenizer.pad({"input_ids": [input_ids[i] for i in rows]}, return_tensors="np")
        parts.append(logits({name: np.asarray(v, np.int64) for name, v in batch.items()}))
    result = np.empty((len(order), parts[0].shape[1]) if parts else (0, 0), dtype=np.float32)
    if parts:
        result[order] = np.concatenate(parts)
    return result
