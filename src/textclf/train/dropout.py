"""Dropout for training on CPU with cheaper random masks.

On CPU, torch draws each dropout mask with `bernoulli_`: one Mersenne Twister number per element,
serially, then a conversion per element. On MiniLM at batch 24 the masks, their products and
the slower attention they force cost about a fifth of a training step. Here each 64-bit draw
gives the masks of three elements (16 bits each), a sixth of the draws. The mask has the same
distribution up to the resolution of the keep probability, a multiple of 1/65,536 (p = 0.1
keeps 0.900009 of the elements instead of 0.9); the kept values are scaled by 1/(1 - p) as
torch does. Other devices keep torch's fused dropout.

Opt-in (`train.cpu_dropout`): the attention half reaches into transformers' attention registry
and its choice of attention per model. Where a transformers release changes that, the attention
keeps its own dropout, with one log line, and the dropout layers still switch.
"""

from __future__ import annotations

import logging
import sys

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AttentionInterface, AttentionMaskInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import sdpa_mask

# the attention implementation (transformers' registry name) whose dropout uses `keep_mask`
ATTENTION = "sdpa_cpu_dropout"
MASK_LEVELS = 2**16
LOW_CHUNKS = slice(0, 3) if sys.byteorder == "little" else slice(1, 4)


def keep_mask(shape: torch.Size, p: float) -> torch.Tensor:
    """A boolean mask of `shape` that is True with probability 1 - p (to within 1/65,536)."""
    count = shape.numel()
    # int64 random_() draws 63 random bits: three 16-bit chunks, the top (15-bit) one unused
    draws = torch.empty(-(-count // 3), dtype=torch.int64).random_()
    chunks = draws.view(torch.int16).view(-1, 4)[:, LOW_CHUNKS]
    keep = chunks >= round(p * MASK_LEVELS) - MASK_LEVELS // 2
    return keep.view(-1)[:count].view(shape)


def dropout(input: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """`F.dropout(input, p, training)`, with masks drawn 16 bits per element on CPU."""
    if not training or p == 0.0 or p >= 1.0 or input.device.type != "cpu":
        return F.dropout(input, p, training)
    # the scale is applied in float32, as torch does, also for bfloat16 activations
    scale = keep_mask(input.shape, p).to(torch.float32).mul_(1.0 / (1.0 - p))
    return (input * scale).to(input.dtype)


class CpuDropout(nn.Dropout):
    """`nn.Dropout` whose masks come from `dropout` above."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dropout(input, self.p, self.training)


def attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: object,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """transformers' SDPA attention, except in CPU training with attention dropout: then the
    attention weights are computed explicitly and dropped out by `keep_mask` (SDPA would draw
    its mask with `bernoulli_`)."""
    plain = (
        query.shape[1] == key.shape[1]  # no grouped key/value heads
        and not getattr(module, "is_causal", True)  # transformers reads a missing one as True
        and kwargs.get("position_bias") is None
    )
    if not 0.0 < dropout < 1.0 or query.device.type != "cpu" or not plain:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    return attend(query, key, value, attention_mask, scaling, dropout)


def attend(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None,
    p: float,
) -> tuple[torch.Tensor, None]:
    """Attention output (batch, tokens, heads, head size), and None for the weights as SDPA,
    with `attention_mask` as SDPA takes it: boolean (True attends) or additive."""
    # scaling the queries costs less than scaling the (tokens x tokens) scores
    scores = (query * (scaling or query.shape[-1] ** -0.5)) @ key.transpose(2, 3)
    if attention_mask is not None and attention_mask.dtype == torch.bool:
        scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
    elif attention_mask is not None:
        scores = scores + attention_mask
    weights = scores.softmax(dim=-1)
    if p > 0.0:
        # dropping out the weights and scaling the (smaller) values gives the same product
        weights = weights * keep_mask(weights.shape, p).to(weights.dtype)
        value = value * (1.0 / (1.0 - p))
    return (weights @ value).transpose(1, 2).contiguous(), None


logger = logging.getLogger(__name__)


def use_cpu_dropout(model: PreTrainedModel) -> None:
    """Switch `model`'s `nn.Dropout` layers and, where the architecture takes transformers'
    attention implementations, its attention dropout to the masks above. Nothing is saved with
    the model: a checkpoint loads with the standard layers."""
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if type(child) is nn.Dropout:
                setattr(parent, name, CpuDropout(child.p, child.inplace))
    # an architecture that computes attention itself keeps its own attention dropout
    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return
    try:
        AttentionInterface.register(ATTENTION, attention)
        AttentionMaskInterface.register(ATTENTION, sdpa_mask)
        model.set_attn_implementation(ATTENTION)
    except (AttributeError, TypeError, ValueError, NotImplementedError) as error:
        logger.warning("train.cpu_dropout: attention keeps torch's dropout (%s)", error)
