"""Cut a long text to what the model can read before the full tokenizer runs: a 950 KB text
costs what its first (and last) few thousand characters cost, not seconds of tokenizing for
tokens that are dropped anyway.

The cut is exact, never an approximation: a text is cut at whitespace (so no word is split) to
a character budget far above what `model_max_length` tokens can span, and its cut pieces are
checked to still fill the token budget; a text whose pieces fall short (whitespace runs,
a few very long words) is tokenized whole. `chunks` reads every token, so it is never cut."""

from __future__ import annotations

import re
from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

from textclf.config.model_params import TokenizeParams
from textclf.data.truncation import HEAD_SHARE, encode_texts, special_affixes

CHARS_PER_TOKEN = 16  # a word piece rarely spans more than a few characters: 16 is generous
WHITESPACE = re.compile(r"\s")


def character_budget(tokens: int) -> int:
    return tokens * CHARS_PER_TOKEN + 64


def head_piece(text: str, chars: int) -> str:
    """The text's start, at most `chars` characters, ending before a whitespace."""
    if len(text) <= chars:
        return text
    end = max((m.start() for m in WHITESPACE.finditer(text, 0, chars + 1)), default=chars)
    return text[:end]


def tail_piece(text: str, chars: int) -> str:
    """The text's end, at most `chars` characters, starting after a whitespace."""
    if len(text) <= chars:
        return text
    found = WHITESPACE.search(text, len(text) - chars - 1)
    return text[found.end() :] if found else text[len(text) - chars :]


def encode_cut(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    truncation: str = TokenizeParams.truncation,
    chunk_overlap: float = TokenizeParams.chunk_overlap,
    ids_only: bool = False,
) -> dict[str, list]:
    """`encode_texts` of `texts`, with long texts cut first (the same inputs, less work)."""
    texts = list(texts)
    limit = tokenizer.model_max_length
    if truncation == "chunks" or not limit or limit > 100_000:
        return encode_texts(tokenizer, texts, truncation, chunk_overlap, ids_only)
    prefix, suffix = special_affixes(tokenizer)
    budget = limit - len(prefix) - len(suffix)
    head_tokens = budget if truncation == "head" else int(budget * HEAD_SHARE)
    chars = character_budget(budget)
    cut_texts, checks = list(texts), {}
    for row, text in enumerate(texts):
        if len(text) <= 2 * chars:
            continue
        head = head_piece(text, character_budget(head_tokens))
        if truncation == "head":
            cut_texts[row], checks[row] = head, [(head, head_tokens)]
        else:
            tail = tail_piece(text, character_budget(budget - head_tokens))
            cut_texts[row] = f"{head} {tail}"
            checks[row] = [(head, head_tokens), (tail, budget - head_tokens)]
    if checks:
        pieces = [(row, piece, need) for row, found in checks.items() for piece, need in found]
        counted = tokenizer(
            [piece for _, piece, _ in pieces], add_special_tokens=False, verbose=False
        )["input_ids"]
        for (row, _, need), ids in zip(pieces, counted, strict=True):
            if len(ids) < need + 1:  # one token to spare: the piece's last word may split
                cut_texts[row] = texts[row]
    return encode_texts(tokenizer, cut_texts, truncation, chunk_overlap, ids_only)
