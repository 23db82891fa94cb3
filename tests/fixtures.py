"""Test data and a tiny BERT, built from scratch so that no test needs the network."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import torch
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertModel, BertTokenizerFast

CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
TOPIC_WORDS = {
    "World": "election minister troops embassy treaty rebels parliament border refugees summit",
    "Sports": "match goal season coach league striker playoff tournament medal stadium",
    "Business": "shares profit market investors earnings merger stocks revenue bank dollar",
    "Sci/Tech": "software internet computer scientists space chip network wireless genome robot",
}
COMMON_WORDS = [
    "the",
    "a",
    "on",
    "in",
    "after",
    "with",
    "says",
    "new",
    "report",
    "today",
    "week",
    "officials",
    "group",
]


def news_rows(count: int, seed: int) -> list[tuple[int, str, str]]:
    """AG-News-shaped rows (1-based label, title, description) whose topic words give the label
    away, with backslashes, quotes and commas in the text as in the real data."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        label = index % len(CLASSES) + 1
        topic = TOPIC_WORDS[CLASSES[label - 1]].split()

        def sentence(length: int, topic: list[str] = topic) -> str:
            words = [
                rng.choice(topic if rng.random() < 0.5 else COMMON_WORDS) for _ in range(length)
            ]
            return " ".join(words).capitalize()

        title = sentence(rng.randint(3, 6))
        description = f'{sentence(rng.randint(6, 14))}, "{sentence(2)}" \\ {sentence(3)}.'
        rows.append((label, title, description))
    return rows


def write_news_csv(path: Path, rows: list[tuple[int, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def build_tiny_bert(directory: Path, texts: list[str]) -> Path:
    """A randomly initialised 2-layer BERT with a WordPiece vocabulary trained on `texts`,
    saved with `save_pretrained` like a hub checkpoint."""
    wordpiece = BertWordPieceTokenizer(lowercase=False)
    wordpiece.train_from_iterator(texts, vocab_size=400, min_frequency=1)
    tokenizer = BertTokenizerFast(
        tokenizer_object=wordpiece._tokenizer,
        do_lower_case=False,
        model_max_length=128,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same "pretrained" weights in every test session
        model = BertModel(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
