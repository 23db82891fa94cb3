"""The two sides bench/speed.py measures: the notebook's configuration and this repository's,
each trained and then predicting on the same rows."""

from __future__ import annotations

import statistics
import tempfile
import time

import datasets
import numpy as np
import torch
from machine import CLASSES, PeakMemory, timed
from prediction import predict_proba
from transformers import TrainingArguments, set_seed

from textclf.config.train_params import TrainParams
from textclf.modeling.loading import load_model_for_training
from textclf.train.dropout import use_cpu_dropout
from textclf.train.training import make_trainer, training_arguments


def encode(tokenizer, frame, max_length: int) -> datasets.Dataset:
    encoded = tokenizer(frame["text"].tolist(), truncation=True, max_length=max_length)
    columns = {**encoded, "label": frame["label"].tolist()}
    columns["length"] = [len(ids) for ids in encoded["input_ids"]]
    return datasets.Dataset.from_dict(columns)


def train_and_predict(
    side: str,
    model_name: str,
    tokenizer,
    splits: dict,
    max_length: int,
    seed: int,
    int8: bool,
    precision: str = "auto",
) -> dict:
    """Train one epoch and predict the test split; return the figures of one side."""
    train, validation, test = (encode(tokenizer, splits[n], max_length) for n in splits)
    if side == "repo":  # as the tokenize stage stores it: evaluation pads little
        validation = validation.sort("length")
    set_seed(seed)
    model = load_model_for_training(model_name, CLASSES)
    with tempfile.TemporaryDirectory() as scratch:
        if side == "notebook":
            args = TrainingArguments(
                output_dir=scratch,
                num_train_epochs=1,
                per_device_train_batch_size=24,
                per_device_eval_batch_size=24,
                weight_decay=0.01,
                eval_strategy="epoch",
                save_strategy="no",
                report_to="none",
                use_cpu=not torch.cuda.is_available(),
                seed=seed,
                disable_tqdm=True,
            )
        else:
            params = TrainParams(
                epochs=1, batch_size=24, sampling="bucketed", seed=seed, precision=precision
            )
            args = training_arguments(
                params, scratch, save_strategy="no", report_to="none", disable_tqdm=True
            )
        sampling = "random" if side == "notebook" else "bucketed"
        trainer = make_trainer(
            model, tokenizer, args, train, validation, sampling=sampling, cpu_dropout=side == "repo"
        )
        with PeakMemory() as memory:
            metrics = trainer.train().metrics
        labels = np.array(test["label"])
        figures = {
            "train_samples_per_s": metrics["train_samples_per_second"],
            "train_s": metrics["train_runtime"],
            "real_tokens_per_s": sum(train["length"]) / metrics["train_runtime"],
            "peak_rss_gib": memory.peak / 2**30,
        }
        if side == "notebook":
            seconds, probabilities = timed(trainer.predict, test)
            probabilities = probabilities.predictions
        else:
            # as evaluate loads it from disk: without the Trainer's autocast wrapper
            model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
            seconds, probabilities = timed(
                predict_proba,
                model.eval(),
                tokenizer,
                test["input_ids"],
                64,
                progress=False,
                precision=precision,
            )
            if int8:
                quantized = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
                int8_seconds, int8_probabilities = timed(
                    predict_proba,
                    quantized,
                    tokenizer,
                    test["input_ids"],
                    64,
                    progress=False,
                    precision="fp32",
                )
                figures["int8_predict_samples_per_s"] = len(test) / int8_seconds
                figures["int8_accuracy"] = accuracy(int8_probabilities, labels)
    figures["predict_samples_per_s"] = len(test) / seconds
    figures["accuracy"] = accuracy(probabilities, labels)
    return figures


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float((np.argmax(probabilities, axis=1) == labels).mean())


def bare_step_ceiling(
    model_name: str, dtype: torch.dtype | None, batch: int = 32, tokens: int = 50, steps: int = 8
) -> float:
    """Samples/s of forward+backward+AdamW on fixed batches with no padding and no data work,
    in fp32 (dtype None) or under autocast to `dtype`, with the repository's dropout."""
    set_seed(0)
    model = load_model_for_training(model_name, CLASSES).train()
    use_cpu_dropout(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    ids = torch.randint(1000, 2000, (batch, tokens))
    labels = torch.randint(0, len(CLASSES), (batch,))
    timings = []
    for step in range(steps + 2):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step >= 2:  # warm-up steps excluded
            timings.append(time.perf_counter() - start)
    return batch / statistics.median(timings)


def non_embedding_params(model_name: str) -> int:
    model = load_model_for_training(model_name, CLASSES)
    embeddings = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    return sum(p.numel() for p in model.parameters()) - embeddings
