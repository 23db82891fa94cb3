"""`train.compile`: the training step and GPU inference compiled with `torch.compile`.

On a GPU at the notebook's batch of 24, bert-base waits on Python launching hundreds of small
kernels a step, not on arithmetic (bench/RESULTS.md, "GPU: notebook scale"). Compiled, the
forward and backward passes are a few fused kernels each; on CUDA they are also captured as
CUDA graphs (`mode="reduce-overhead"`) and replayed with one launch. A graph holds one input
shape, so batches are padded to a multiple of `PAD_MULTIPLE` tokens: a handful of shapes, each
captured once. Nothing inside a step waits for the GPU: the Trainer's NaN filter, which reads
the loss every step, is off (the loss is read at `logging_steps`, and a diverged run is still
refused), and batches are collated by worker processes ahead of the step.

The recipe is unchanged: the same batches in the same order, optimizer, schedule and steps.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable

import numpy as np
import torch

PAD_MULTIPLE = 32  # token lengths of the padded batches: 32, 64, ..., each one CUDA graph
GPU_LOADER_WORKERS = 2  # collate the next batches while the GPU runs this one

log = logging.getLogger(__name__)


# devices where compiling was measured faster (bench/gpu_speed.py): `auto` turns it on there.
# None yet: on a CPU it costs more than it saves in a short run, and the GPU measurement is to
# come (bench/README.md has the command).
MEASURED_FASTER: tuple[str, ...] = ()


def compile_wanted(setting: str, device: torch.device) -> bool:
    """`train.compile` on `device`: `on`, `off`, or `auto`: on where it was measured faster
    (`MEASURED_FASTER`)."""
    if setting == "auto":
        return device.type in MEASURED_FASTER
    return setting == "on"


def compile_mode(device: torch.device) -> str | None:
    """CUDA graphs on a CUDA GPU; inductor's default (fused kernels) elsewhere."""
    return "reduce-overhead" if device.type == "cuda" else None


def compiled_training_arguments(device: torch.device) -> dict:
    """`TrainingArguments` fields of a compiled run."""
    settings: dict = dict(
        torch_compile=True,
        torch_compile_backend="inductor",
        torch_compile_mode=compile_mode(device),
        # its isnan(loss) check runs every step and waits for the GPU
        logging_nan_inf_filter=False,
    )
    if device.type == "cuda":
        settings.update(
            dataloader_num_workers=GPU_LOADER_WORKERS,
            dataloader_prefetch_factor=4,
            dataloader_persistent_workers=True,
            dataloader_pin_memory=True,
        )
    return settings


def compiled_model(model: torch.nn.Module) -> Callable:
    """`model` compiled for inference on its device (CUDA graphs on a GPU); call it as the
    model. Pad its inputs to multiples of `PAD_MULTIPLE` so that few graphs are captured."""
    return torch.compile(model, mode=compile_mode(model.device))


def padded_batch(batch: dict[str, np.ndarray], multiple: int = PAD_MULTIPLE) -> dict:
    """A padded numpy batch (`input_ids`, `attention_mask`, ...) widened with zeros to a
    multiple of `multiple` tokens. The new positions are masked out, so the real tokens'
    outputs are those of the narrower batch (to rounding)."""
    width = next(iter(batch.values())).shape[1]
    extra = -width % multiple
    if not extra:
        return batch
    return {name: np.pad(values, ((0, 0), (0, extra))) for name, values in batch.items()}


def unpadded_supported(model: torch.nn.Module) -> bool:
    """Whether `model` can train on unpadded batches here (rows concatenated, sequences told
    apart by their position ids): that needs flash attention's variable-length kernel (the
    `flash-attn` package). Otherwise one log line says the padded buckets are used."""
    if importlib.util.find_spec("flash_attn") is not None:
        return True
    log.warning(
        "unpadded batches need the flash-attn package, not installed here: %s trains on "
        "batches padded to multiples of %d tokens",
        type(model).__name__,
        PAD_MULTIPLE,
    )
    return False
