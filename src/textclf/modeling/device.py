"""Where a model runs and at which precision: the GPU when there is one, bf16/fp16 where the
hardware computes it natively."""

from __future__ import annotations

import torch


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
