"""torch's dropout against textclf.train.dropout's 16-bit masks on a bare training step (forward,
backward, fused AdamW), interleaved in one process, on the same weights and fixed batches.

    python bench/dropout.py --rounds 5

Measures the lever behind `use_cpu_dropout` in textclf.train.training; prints samples/s of each side
per round and per batch length, the median ratios, and a side without any dropout (the ceiling
of what masks can save), with the CPU model and precision.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from adamw import step_rate
from machine import CLASSES, cpu_model, minilm_dir
from transformers import set_seed

from textclf.modeling.device import cpu_has_amx
from textclf.modeling.loading import load_model_for_training
from textclf.train.dropout import use_cpu_dropout


def side(model_name: str, name: str) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    set_seed(0)
    model = load_model_for_training(model_name, CLASSES).train()
    if name == "textclf":
        use_cpu_dropout(model)
    elif name == "no dropout":
        model.config.attention_probs_dropout_prob = 0.0
        for layer in model.modules():
            if isinstance(layer, torch.nn.Dropout):
                layer.p = 0.0
    return model, torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model dir (default: MiniLM-L6 package)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--lengths", default="32,50,96", help="tokens per text, comma-separated")
    args = parser.parse_args()
    model_name = args.model or minilm_dir()
    sides = {name: side(model_name, name) for name in ("torch", "textclf", "no dropout")}
    print(
        f"CPU: {cpu_model()} (AMX: {'yes' if cpu_has_amx() else 'no'}), fp32, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batches of 24"
    )
    for length in map(int, args.lengths.split(",")):
        ids = torch.randint(1000, 2000, (24, length))
        labels = torch.randint(0, len(CLASSES), (24,))
        ratios: dict[str, list[float]] = {"textclf": [], "no dropout": []}
        for round_index in range(args.rounds):
            rates = {
                name: step_rate(model, optimizer, ids, labels, args.steps)
                for name, (model, optimizer) in sides.items()
            }
            for name in ratios:
                ratios[name].append(rates[name] / rates["torch"])
            print(
                f"{length} tokens, round {round_index + 1}: "
                + ", ".join(f"{k} {v:.1f} samples/s" for k, v in rates.items())
            )
        print(
            f"{length} tokens, median of {args.rounds} rounds: textclf / torch "
            f"{statistics.median(ratios['textclf']):.3f}x, no dropout / torch "
            f"{statistics.median(ratios['no dropout']):.3f}x"
        )


if __name__ == "__main__":
    main()
