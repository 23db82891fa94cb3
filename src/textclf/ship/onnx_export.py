"""A fine-tuned checkpoint to ONNX, checked against PyTorch on real rows before it ships.

`torch.onnx.export` (the dynamo exporter, with onnxscript's optimizer) writes one
self-contained file with dynamic batch and sequence axes; ONNX Runtime's dynamic quantization
makes the optional int8 variant (linear-layer weights in int8, activations quantized on the
fly). Both are run on the same rows as the PyTorch model: the largest logit difference and the
share of identical predicted classes become metrics, and an export that disagrees is refused.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from textclf.config.errors import UserError
from textclf.config.library_logs import logger_level
from textclf.modeling.inference import batched_logits, torch_logits
from textclf.ship.runtime import onnx_logits, onnx_session

# the exporter lists torchvision's operators it skips when torchvision is not installed
# (it is not a requirement: text models use none of them)
EXPORTER_REGISTRY_LOGGER = "torch.onnx._internal.exporter._registration"
# ONNX Runtime's advice to run its pre-processing: shape inference and graph optimisation for
# static quantization; dynamic quantization of the linear layers gains nothing from it
QUANTIZER_ADVICE = "Please consider to run pre-processing before quantization"
MIN_AGREEMENT = 0.99  # an fp32 export predicting other classes than PyTorch is broken


class ExportError(UserError):
    """The exported model does not reproduce the PyTorch model."""


def export_onnx(model: PreTrainedModel, path: Path, opset: int) -> None:
    """`model` (eval mode, on the CPU) as one ONNX file taking `input_ids` and
    `attention_mask` of any batch size and sequence length, giving `logits`."""
    example = torch.tensor([[101, 7592, 2088, 102], [101, 2088, 102, 0]])
    inputs = {"input_ids": example, "attention_mask": (example != 0).long()}
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    with warnings.catch_warnings():
        # torch.export's own deprecation notices about its internals: nothing a user can act on
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        # both inputs share their dynamic axes, which the exporter announces once per axis
        warnings.filterwarnings("ignore", "# The axis name", UserWarning)
        with logger_level(EXPORTER_REGISTRY_LOGGER, logging.ERROR):
            _export(model, path, opset, inputs, {n: {0: batch, 1: sequence} for n in inputs})


def _not_quantizer_advice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(QUANTIZER_ADVICE)


def _export(model, path: Path, opset: int, inputs: dict, dynamic_shapes: dict) -> None:
    torch.onnx.export(
        model.cpu().eval(),
        (),
        str(path),
        kwargs=inputs,
        input_names=list(inputs),
        output_names=["logits"],
        dynamic_shapes=dynamic_shapes,
        opset_version=opset,
        dynamo=True,
        external_data=False,  # one file: < 2 GB for BERT-sized models
        verbose=False,
    )


def quantize_int8(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()  # where onnxruntime.quantization logs its advice
    root.addFilter(_not_quantizer_advice)
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    finally:
        root.removeFilter(_not_quantizer_advice)


def parity(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    onnx_path: Path,
    input_ids: Sequence[Sequence[int]],
    threshold: float | None = None,
) -> dict[str, float]:
    """`max_abs_logit_diff` and `argmax_agreement` of the ONNX model against PyTorch in fp32
    on `input_ids`, batched alike. A multi-label model (`threshold` given) agrees on a row
    when both predict the same label set."""
    expected = batched_logits(torch_logits(model, "fp32"), tokenizer, input_ids, progress=False)
    session = onnx_session(onnx_path)
    actual = batched_logits(onnx_logits(session), tokenizer, input_ids, progress=False)
    if threshold is None:
        agreement = float((expected.argmax(axis=1) == actual.argmax(axis=1)).mean())
    else:
        cut = np.log(threshold / (1 - threshold))  # sigmoid(logit) >= threshold
        agreement = float(((expected >= cut) == (actual >= cut)).all(axis=1).mean())
    return {
        "max_abs_logit_diff": float(f"{np.abs(expected - actual).max():.6g}"),
        "argmax_agreement": round(agreement, 6),
    }


def check_rows(input_ids: Sequence[Sequence[int]], count: int) -> list[list[int]]:
    """`count` rows spread evenly over `input_ids` (validation rows sorted by length: the
    check covers short and long texts alike)."""
    if len(input_ids) <= count:
        return [list(ids) for ids in input_ids]
    picks = np.linspace(0, len(input_ids) - 1, count).round().astype(int)
    return [list(input_ids[i]) for i in picks]
