"""CPU dropout with 16-bit masks: torch's dropout distribution, SDPA's attention, standard
checkpoints."""

import math

import datasets
import pytest
import torch
from torch import nn
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from textclf.config.train_params import TrainParams
from textclf.train.dropout import ATTENTION, CpuDropout, attend, attention, dropout, keep_mask
from textclf.train.training import make_trainer, training_arguments

COUNT = 1_000_000


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_masks_drop_p_of_the_elements_and_scale_the_rest(p):
    torch.manual_seed(0)
    ones = torch.ones(COUNT, requires_grad=True)
    out = dropout(ones, p)
    dropped = out == 0
    # 16-bit resolution: the share is p to within 1/65,536, plus sampling noise (5 sigma)
    assert abs(dropped.float().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / COUNT) + 2**-16
    assert torch.equal(out[~dropped], torch.full_like(out[~dropped], 1 / (1 - p)))
    # neighbours, whose 16 bits come from one 64-bit draw, decide independently
    even, odd = dropped[0::2].float(), dropped[1::2].float()
    assert abs((even * odd).mean().item() - p * p) < 5 * math.sqrt(p * p / (COUNT / 2))
    (gradient,) = torch.autograd.grad(out.sum(), ones)
    assert torch.equal(gradient, out.detach())


def test_masks_follow_torchs_seed_and_change_between_calls():
    shape = (24, 50, 384)
    torch.manual_seed(7)
    first, second = dropout(torch.ones(shape), 0.1), dropout(torch.ones(shape), 0.1)
    torch.manual_seed(7)
    assert torch.equal(dropout(torch.ones(shape), 0.1), first)
    assert not torch.equal(first, second)


def test_evaluation_zero_p_and_bfloat16_behave_as_torchs_dropout():
    values = torch.randn(1000)
    assert dropout(values, 0.1, training=False) is values
    assert torch.equal(dropout(values, 0.0), values)
    assert torch.equal(dropout(values, 1.0), torch.zeros_like(values))
    half = dropout(torch.ones(1000, dtype=torch.bfloat16), 0.1)
    assert half.dtype == torch.bfloat16
    assert set(half.unique().tolist()) == {0.0, torch.tensor(1 / 0.9).bfloat16().item()}
    layer = CpuDropout(0.1).eval()
    assert torch.equal(layer(values), values)


def masked_attention(query, key, value, attends, keep=None, p=0.0):
    """Attention written out: softmax of the scaled scores over the attended keys, dropped
    out by `keep` and scaled as dropout does."""
    scores = query @ key.transpose(2, 3) / math.sqrt(query.shape[-1])
    if attends is not None:
        scores = scores.masked_fill(~attends, float("-inf"))
    weights = scores.softmax(dim=-1)
    if keep is not None:
        weights = weights * keep / (1 - p)
    return (weights @ value).transpose(1, 2)


@pytest.mark.parametrize("mask_kind", ["bool", "additive", "none"])
def test_attention_equals_sdpa_without_dropout_and_drops_weights_with_it(mask_kind):
    torch.manual_seed(0)
    query, key, value = (torch.randn(2, 4, 9, 8) for _ in range(3))
    attends = torch.ones(2, 1, 9, 9, dtype=torch.bool)
    attends[0, ..., 6:] = False  # the first text is 6 tokens long
    masks = {
        "bool": attends,
        "additive": torch.zeros(2, 1, 9, 9).masked_fill(~attends, torch.finfo(torch.float32).min),
        "none": None,
    }
    layer = nn.Module()
    layer.is_causal = False  # as BERT's self-attention
    expected, _ = sdpa_attention_forward(layer, query, key, value, masks[mask_kind], dropout=0.0)
    output, _ = attend(query, key, value, masks[mask_kind], None, 0.0)
    assert torch.allclose(output, expected, atol=1e-6)
    attended = attends if mask_kind != "none" else None
    torch.manual_seed(1)
    dropped, _ = attend(query, key, value, masks[mask_kind], None, 0.5)
    torch.manual_seed(1)
    keep = keep_mask(torch.Size([2, 4, 9, 9]), 0.5)
    assert 0.3 < keep.float().mean().item() < 0.7
    expected = masked_attention(query, key, value, attended, keep, 0.5)
    assert torch.allclose(dropped, expected, atol=1e-6)


def test_attention_drops_out_itself_only_in_plain_cpu_training():
    query, key, value = (torch.randn(2, 4, 9, 8) for _ in range(3))
    encoder, decoder, grouped = nn.Module(), nn.Module(), nn.Module()
    encoder.is_causal, decoder.is_causal, grouped.is_causal = False, True, False
    grouped.num_key_value_groups = 2

    def seeded(function, *args, **kwargs) -> torch.Tensor:
        torch.manual_seed(3)
        return function(*args, **kwargs)[0]

    # training an encoder: the masks above
    assert torch.equal(
        seeded(attention, encoder, query, key, value, None, dropout=0.1),
        seeded(attend, query, key, value, None, None, 0.1),
    )
    for layer, p, keys, values in [
        (encoder, 0.0, key, value),  # evaluation
        (decoder, 0.1, key, value),  # causal attention
        (grouped, 0.1, key[:, :2], value[:, :2]),  # grouped key/value heads
    ]:  # SDPA's own
        assert torch.equal(
            seeded(attention, layer, query, keys, values, None, dropout=p),
            seeded(sdpa_attention_forward, layer, query, keys, values, None, dropout=p),
        )


def test_trainer_switches_the_model_and_its_checkpoint_loads_as_standard(tiny_bert, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=2)
    standard = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=2)
    standard.load_state_dict(model.state_dict())
    rows = datasets.Dataset.from_dict(
        {
            "input_ids": tokenizer(["a b c", "d e f g h", "i j"] * 8)["input_ids"],
            "label": [0, 1, 0] * 8,
        }
    )
    args = training_arguments(TrainParams(epochs=1, batch_size=8), str(tmp_path / "out"))
    trainer = make_trainer(model, tokenizer, args, rows, rows, cpu_dropout=True)
    layers = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert layers and all(type(m) is CpuDropout for m in layers)
    assert model.config._attn_implementation == ATTENTION
    batch = tokenizer(["a b c d", "e f"], padding=True, return_tensors="pt")
    with torch.inference_mode():  # evaluation: SDPA, no dropout, the same numbers
        assert torch.allclose(model.eval()(**batch).logits, standard.eval()(**batch).logits)
    trainer.train()
    model.save_pretrained(tmp_path / "saved")
    assert ATTENTION not in (tmp_path / "saved" / "config.json").read_text()
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "saved")
    assert reloaded.config._attn_implementation == "sdpa"
    assert all(type(m) is nn.Dropout for m in reloaded.modules() if isinstance(m, nn.Dropout))


def test_trainer_keeps_torchs_dropout_by_default(tiny_bert, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=2)
    rows = datasets.Dataset.from_dict({"input_ids": [[2, 5, 3]] * 4, "label": [0, 1] * 2})
    args = training_arguments(TrainParams(epochs=1, batch_size=2), str(tmp_path / "out"))
    make_trainer(model, tokenizer, args, rows, rows)
    assert not any(type(m) is CpuDropout for m in model.modules())
    assert model.config._attn_implementation == "sdpa"
