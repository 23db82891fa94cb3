"""`train.compile` on the CPU (CI has no GPU): compiled and eager training of the tiny model
give the same losses, steps and order; padding a batch to a bucket width leaves its logits;
compiled prediction gives eager's; `auto` is off on a CPU; bad values are one line."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch
from fixtures import news_rows
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from textclf.config.train_params import TrainParams
from textclf.modeling.compiled import PAD_MULTIPLE, compile_wanted, padded_batch
from textclf.modeling.inference import batched_logits, to_probabilities, torch_logits
from textclf.train.training import make_trainer, training_arguments

# inductor's own use of TorchScript, not ours
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")
# compiled kernels add and multiply in another order: fp32 losses agree to about 1e-6
LOSS_TOLERANCE = 1e-4


def classifier(tiny_bert) -> torch.nn.Module:
    """The tiny BERT with a fresh 4-class head and no dropout: with dropout, compiled code
    draws its masks from its own generator, so the two runs would differ by design."""
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(
        tiny_bert,
        num_labels=4,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        use_safetensors=True,
    )


def encoded(tiny_bert, rows: int = 40) -> datasets.Dataset:
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    texts = news_rows(rows, seed=3)
    ids = tokenizer([f"{t} {d}" for _, t, d in texts], truncation=True, max_length=24)
    return datasets.Dataset.from_dict(
        {
            "input_ids": ids["input_ids"],
            "labels": [label - 1 for label, _, _ in texts],
            "length": [len(row) for row in ids["input_ids"]],
        }
    )


def train_losses(tiny_bert, compile_setting: str, tmp_path) -> tuple[list[float], int, bool]:
    # fp32: on a CPU with AMX `auto` trains in bf16, whose rounding differs between the compiled
    # and the eager kernels by more than the tolerance; the test is about compiling
    params = TrainParams(
        epochs=1, batch_size=8, learning_rate=5e-3, logging_steps=1, min_steps=0, precision="fp32"
    )
    params = TrainParams(**{**params.__dict__, "compile": compile_setting})
    args = training_arguments(
        params,
        tmp_path / compile_setting,
        report_to="none",
        save_strategy="no",
        eval_strategy="no",
        disable_tqdm=True,
    )
    model, tokenizer = classifier(tiny_bert), AutoTokenizer.from_pretrained(tiny_bert)
    trainer = make_trainer(model, tokenizer, args, encoded(tiny_bert), None, sampling="bucketed")
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return losses, trainer.state.global_step, args.torch_compile


@pytest.mark.training
def test_compiled_training_gives_the_eager_losses_steps_and_order(tiny_bert, tmp_path):
    eager, eager_steps, eager_compiled = train_losses(tiny_bert, "off", tmp_path)
    compiled, steps, is_compiled = train_losses(tiny_bert, "on", tmp_path)
    assert not eager_compiled and is_compiled
    assert steps == eager_steps == 5  # 40 rows in batches of 8
    # the same batches in the same order (bucketed), the same optimizer and schedule
    assert compiled == pytest.approx(eager, abs=LOSS_TOLERANCE), (compiled, eager)
    assert eager[0] != pytest.approx(eager[-1], abs=0.01)  # it did learn something


def test_auto_is_off_on_a_cpu_and_compiled_runs_never_wait_on_the_loss(tmp_path):
    cpu = torch.device("cpu")
    assert not compile_wanted("auto", cpu) and compile_wanted("on", cpu)
    # not yet measured faster on a GPU: auto stays off there too (docs/speed-and-scale.md)
    assert not compile_wanted("auto", torch.device("cuda")) and not compile_wanted("off", cpu)
    auto = training_arguments(TrainParams(), tmp_path)
    assert not auto.torch_compile and auto.logging_nan_inf_filter
    on = training_arguments(TrainParams(**{**TrainParams().__dict__, "compile": "on"}), tmp_path)
    assert on.torch_compile and not on.logging_nan_inf_filter
    assert on.torch_compile_mode is None  # CUDA graphs only on a CUDA GPU


def test_padding_to_a_bucket_width_leaves_the_logits(tiny_bert):
    model = classifier(tiny_bert).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    batch = tokenizer.pad({"input_ids": encoded(tiny_bert, 6)["input_ids"]}, return_tensors="np")
    batch = {name: np.asarray(values, np.int64) for name, values in batch.items()}
    widened = padded_batch(batch)
    assert widened["input_ids"].shape[1] % PAD_MULTIPLE == 0
    assert widened["input_ids"].shape[1] > batch["input_ids"].shape[1]
    logits = torch_logits(model, "fp32")
    assert np.allclose(logits(widened), logits(batch), atol=1e-5)


def test_compiled_prediction_gives_eager_probabilities(tiny_bert):
    model = classifier(tiny_bert).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    ids = encoded(tiny_bert, 20)["input_ids"]
    eager, compiled = (
        to_probabilities(batched_logits(torch_logits(model, compiled=on), tokenizer, ids, 8, False))
        for on in (False, True)
    )
    assert np.allclose(compiled, eager, atol=1e-5)
