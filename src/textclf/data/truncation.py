"""Texts longer than the model's input (`tokenize.truncation`): `head` keeps the first tokens,
`head_tail` the first quarter and the last three quarters of the budget (Sun et al. 2019, "How
to Fine-Tune BERT for Text Classification?": head+tail beat head-only and tail-only on long
documents), `chunks` cuts the text into overlapping windows that each become a model input;
their logits are averaged per text at evaluation and prediction time (training learns from
every window, each labelled as its text)."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np
from transformers import PreTrainedTokenizerBase

from textclf.config.errors import UserError
from textclf.config.model_params import TokenizeParams

HEAD_SHARE = 0.25  # of the token budget in head_tail: Sun et al.'s 128 head + 382 tail of 510
# a tokenizer's special tokens, found once: two tokenizer calls were a tenth of a served
# one-text request to a small model
AFFIXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def encode_texts(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    truncation: str = TokenizeParams.truncation,
    chunk_overlap: float = TokenizeParams.chunk_overlap,
    ids_only: bool = False,
) -> dict[str, list]:
    """The model inputs of `texts`, at most `tokenizer.model_max_length` tokens each, and
    `document`: the index of the text each input comes from (several per text for `chunks`).
    `ids_only`: only `input_ids` (the attention mask of an unpadded text is all ones, its token
    types all zeros; converting them from the Rust tokenizer costs a fifth of its time)."""
    texts, limit = list(texts), tokenizer.model_max_length
    skip = {"return_attention_mask": False, "return_token_type_ids": False} if ids_only else {}
    if truncation == "head":
        encoded = dict(tokenizer(texts, truncation=True, **skip))
        encoded["document"] = list(range(len(texts)))
    elif truncation == "head_tail":
        encoded = head_and_tail(tokenizer, texts, limit)
    elif truncation == "chunks":
        if not tokenizer.is_fast:
            raise UserError("tokenize.truncation 'chunks' needs a fast (Rust) tokenizer")
        window = limit - tokenizer.num_special_tokens_to_add(pair=False)
        encoded = dict(
            tokenizer(
                texts,
                truncation=True,
                stride=int(window * chunk_overlap),  # tokens shared by neighbouring windows
                return_overflowing_tokens=True,
                **skip,
            )
        )
        encoded["document"] = encoded.pop("overflow_to_sample_mapping")
    else:
        raise UserError(f"unknown truncation {truncation!r}")
    return encoded


def head_and_tail(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], limit: int
) -> dict[str, list]:
    prefix, suffix = special_affixes(tokenizer)
    budget = limit - len(prefix) - len(suffix)
    head = int(budget * HEAD_SHARE)
    tokens = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    input_ids = [
        prefix
        + (ids if len(ids) <= budget else ids[:head] + ids[len(ids) - budget + head :])
        + suffix
        for ids in tokens
    ]
    return {
        "input_ids": input_ids,
        "attention_mask": [[1] * len(ids) for ids in input_ids],
        "document": list(range(len(texts))),
    }


def special_affixes(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after a text (BERT: [CLS], [SEP])."""
    if tokenizer not in AFFIXES:
        AFFIXES[tokenizer] = find_affixes(tokenizer)
    return AFFIXES[tokenizer]


def find_affixes(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return full[:start], full[start + len(plain) :]
    raise UserError("tokenize.truncation 'head_tail' cannot place this tokenizer's special tokens")


def average_by_document(logits: np.ndarray, document: Sequence[int], texts: int) -> np.ndarray:
    """The mean of the logits of each text's inputs: one row per text, in text order."""
    document = np.asarray(document, dtype=np.int64)
    total = np.zeros((texts, logits.shape[1]), dtype=np.float64)
    np.add.at(total, document, logits)
    counts = np.bincount(document, minlength=texts)[:, None]
    return (total / np.maximum(counts, 1)).astype(np.float32)
