"""Loading tokenizers and models (hub id or local directory, safetensors only) and batched
inference shared by the evaluate stage and the predict command."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit, softmax
from tqdm.auto import tqdm
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from textclf.config.errors import ParamsError, UserError
from textclf.config.paths import MODEL_DIR
from textclf.config.sources import is_hub_id
from textclf.data.truncation import average_by_document
from textclf.train.compiled import compiled_model, padded_batch

# the train stage's checkpoint, and the folder to ship: that checkpoint with its ONNX export and
# model card (the package stage), which `predict` and `serve` read by default


class CheckpointError(UserError):
    """A fine-tuned checkpoint folder is missing or incomplete."""


def resolve_model_name(name: str) -> str:
    """`name` as an existing local directory, or as a hub id (`bert-base-cased`, `org/model`)."""
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local)
    if not is_hub_id(name):
        raise ParamsError(
            f"model.name {name!r} is neither an existing local directory nor a hub id like "
            f"'bert-base-cased' or 'org/model'"
        )
    return name


def from_pretrained(factory: type, name: str, **kwargs: object) -> object:
    """`factory.from_pretrained` for the model that `model.name` names, failing in one line.

    Remote code is never run (`trust_remote_code` keeps its default, False); model loaders
    here also pass `use_safetensors=True`, so pickled weights are refused."""
    try:
        return factory.from_pretrained(resolve_model_name(name), **kwargs)
    except OSError as error:
        reason = str(error).strip().splitlines()[0]
        raise ParamsError(f"model.name {name!r} cannot be loaded: {reason}") from None


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    return from_pretrained(AutoTokenizer, name)


def model_max_length(name: str, tokenizer: PreTrainedTokenizerBase) -> int:
    """The longest input the model accepts: tokenizers often report a huge placeholder."""
    config = from_pretrained(AutoConfig, name)
    positions = getattr(config, "max_position_embeddings", None)
    return min(tokenizer.model_max_length, positions or tokenizer.model_max_length)


def load_model_for_training(
    name: str, classes: Sequence[str], multi_label: bool = False
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
    """`path` as a checkpoint folder; CheckpointError if it holds none."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise CheckpointError(f"{path}: no checkpoint here (run `dvc repro` or `dvc pull`)")
    return path


def inference_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The mixed-precision dtype for `precision` on `device`; None means plain fp32.

    `auto` takes bf16 where the hardware computes it natively (Ampere and newer GPUs, CPUs with
    AMX), fp16 on older GPUs, and fp32 elsewhere, where emulated bf16 would be slower.
    """
    if precision == "fp32":
        return None
    if precision != "auto":
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if device.type == "cpu" and cpu_has_amx() else None


def cpu_has_amx() -> bool:
    return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())


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
    `compiled`: through `torch.compile` (see `textclf.train.compiled`), on batches padded to a
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
