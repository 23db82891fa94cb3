"""The pretrained model's tokenizer and the longest input it takes: all the tokenize stage needs
of the model (so an edit of the model or training code never re-tokenizes the corpus)."""

from __future__ import annotations

from transformers import AutoConfig, AutoTokenizer, PreTrainedTokenizerBase

from textclf.modeling.hub import from_pretrained


def load_tokenizer(name: str, key: str = "model.name") -> PreTrainedTokenizerBase:
    """The tokenizer of the model the param `key` names (ParamsError naming it otherwise)."""
    return from_pretrained(AutoTokenizer, name, key)


def model_max_length(name: str, tokenizer: PreTrainedTokenizerBase) -> int:
    """The longest input the model accepts: tokenizers often report a huge placeholder."""
    config = from_pretrained(AutoConfig, name)
    positions = getattr(config, "max_position_embeddings", None)
    return min(tokenizer.model_max_length, positions or tokenizer.model_max_length)
