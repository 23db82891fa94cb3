"""What a student learns from: the teacher's probabilities softened by a temperature, mixed
with the true labels where a row has them (Hinton et al., 2015), for softmax and for
multi-label sigmoid heads alike."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# probabilities are clipped before taking logs: a teacher's 0 or 1 would give infinities
EPSILON = 1e-7


def softened(teacher: torch.Tensor, temperature: float, multi_label: bool) -> torch.Tensor:
    """The teacher's probabilities at `temperature` (1: unchanged; higher: softer). From
    probabilities, not logits: softmax(log p / T) equals softmax(logits / T)."""
    clipped = teacher.clamp(EPSILON, 1 - EPSILON)
    if multi_label:
        return torch.sigmoid(torch.logit(clipped) / temperature)
    return torch.softmax(torch.log(clipped) / temperature, dim=-1)


def distillation_loss(
    logits: torch.Tensor,
    teacher: torch.Tensor,
    truth: torch.Tensor,
    labelled: torch.Tensor,
    temperature: float,
    true_label_weight: float,
    multi_label: bool,
) -> torch.Tensor:
    """(1 - w) x T^2 x cross-entropy against the softened teacher + w x the usual loss on the
    true labels of the `labelled` rows (a pool's rows have none). T^2 keeps the soft part's
    gradients on the scale of the hard part's whatever the temperature."""
    target = softened(teacher, temperature, multi_label)
    if multi_label:
        soft = F.binary_cross_entropy_with_logits(logits / temperature, target)
        hard_rows = F.binary_cross_entropy_with_logits(logits, truth, reduction="none").mean(-1)
    else:
        soft = -(target * F.log_softmax(logits / temperature, dim=-1)).sum(-1).mean()
        hard_rows = -(truth * F.log_softmax(logits, dim=-1)).sum(-1)
    mask = labelled.to(logits.dtype)
    hard = (hard_rows * mask).sum() / mask.sum().clamp(min=1)
    return (1 - true_label_weight) * temperature**2 * soft + true_label_weight * hard
