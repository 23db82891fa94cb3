"""Fused against foreach AdamW on a bare training step (forward, backward, optimizer step),
interleaved in one process, on the same model and fixed batches.

    python bench/adamw.py --rounds 5

Measures the lever behind `optim="adamw_torch_fused"` in textclf.train.training; prints samples/s of
each side per round and the median ratio, with the CPU model and precision.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from machine import CLASSES, cpu_model, minilm_dir
from transformers import set_seed

from textclf.modeling.device import cpu_has_amx
from textclf.modeling.loading import load_model_for_training


def step_rate(model, optimizer, ids, labels, steps: int) -> float:
    timings = []
    for step in range(steps + 2):
        start = time.perf_counter()
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step >= 2:  # warm-up steps excluded
            timings.append(time.perf_counter() - start)
    return len(ids) / statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model dir (default: MiniLM-L6 package)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    set_seed(0)
    model = load_model_for_training(args.model or minilm_dir(), CLASSES).train()
    ids = torch.randint(1000, 2000, (24, 50))  # a batch of 24 AG-News-length texts
    labels = torch.randint(0, len(CLASSES), (24,))
    optimizers = {
        "foreach": torch.optim.AdamW(model.parameters(), lr=5e-5, foreach=True),
        "fused": torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True),
    }
    print(
        f"CPU: {cpu_model()} (AMX: {'yes' if cpu_has_amx() else 'no'}), fp32, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    ratios = []
    for round_index in range(args.rounds):
        rates = {
            name: step_rate(model, opt, ids, labels, args.steps) for name, opt in optimizers.items()
        }
        ratios.append(rates["fused"] / rates["foreach"])
        print(
            f"round {round_index + 1}: "
            + ", ".join(f"{k} {v:.1f} samples/s" for k, v in rates.items())
        )
    print(f"fused / foreach, median of {args.rounds} rounds: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
