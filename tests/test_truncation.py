"""How long texts are cut (`tokenize.truncation`), on the tiny BERT's tokenizer."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import COMMON_WORDS
from transformers import AutoTokenizer

from textclf.data.truncation import average_by_document, encode_texts

WORDS = COMMON_WORDS  # 13 words, one token each in the tiny BERT's vocabulary


@pytest.fixture(scope="module")
def tokenizer(tiny_bert):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    tokenizer.model_max_length = 10  # 8 text tokens between [CLS] and [SEP]
    return tokenizer


def tokens(tokenizer, ids: list[int]) -> list[str]:
    return tokenizer.convert_ids_to_tokens(ids)


def test_head_tail_keeps_the_first_quarter_and_the_last_three_quarters(tokenizer):
    text = " ".join(WORDS)
    encoded = encode_texts(tokenizer, [text, "the a"], "head_tail")
    assert tokens(tokenizer, encoded["input_ids"][0]) == ["[CLS]", "the", "a", *WORDS[-6:], "[SEP]"]
    assert tokens(tokenizer, encoded["input_ids"][1]) == ["[CLS]", "the", "a", "[SEP]"]
    assert encoded["document"] == [0, 1]
    assert [len(mask) for mask in encoded["attention_mask"]] == [10, 4]


def test_chunks_cover_every_token_in_overlapping_windows(tokenizer):
    encoded = encode_texts(tokenizer, ["the a", " ".join(WORDS)], "chunks", chunk_overlap=0.25)
    windows = [tokens(tokenizer, ids)[1:-1] for ids in encoded["input_ids"]]
    assert encoded["document"] == [0, 1, 1]
    assert windows[0] == ["the", "a"]
    assert windows[1] == WORDS[:8]
    assert windows[2] == WORDS[6:]  # 2 tokens (a quarter of 8) shared with the window before
    assert all(len(ids) <= 10 for ids in encoded["input_ids"])


def test_logits_are_averaged_per_text_in_text_order():
    logits = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 0.0]], dtype=np.float32)
    averaged = average_by_document(logits, [1, 0, 1], texts=2)
    assert averaged.tolist() == [[0.0, 2.0], [2.5, 0.0]]
