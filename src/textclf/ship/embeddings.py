"""Text embeddings from a shipped model: a checkpoint's encoder (the mean of its last hidden
states over the tokens), or a static student's own token vectors (their mean): the space in
which `select` spreads the rows it proposes for labelling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from textclf.distill.static_student import StaticScorer, embed, is_static_student
from textclf.modeling.loading import load_classifier
from textclf.ship.runtime import Classifier

MAX_TOKENS = 512


def text_embeddings(
    model_dir: str | Path,
    texts: Sequence[str],
    batch_size: int = 32,
    loaded: Classifier | None = None,
) -> np.ndarray:
    """One row per text: the fine-tuned encoder's mean-pooled last hidden state, or a static
    student's mean token vector (`loaded`: the folder already loaded, reused for a student)."""
    if is_static_student(Path(model_dir)):
        scorer = loaded.model if loaded is not None else StaticScorer(Path(model_dir))
        return embed(scorer.static, texts)
    model, tokenizer = load_classifier(model_dir)
    encoder = model.base_model
    longest = min(tokenizer.model_max_length or MAX_TOKENS, MAX_TOKENS)
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(
            list(texts[start : start + batch_size]),
            truncation=True,
            max_length=longest,
            padding=True,
            return_tensors="pt",
        ).to(model.device)
        with torch.inference_mode():
            hidden = encoder(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        parts.append(((hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)).cpu().numpy())
    return np.concatenate(parts) if parts else np.zeros((0, model.config.hidden_size))
