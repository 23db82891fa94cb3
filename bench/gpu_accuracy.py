"""Does `train.compile` change what a fine-tune learns? Real pretrained weights (MiniLM-L6)
fine-tuned on real AG News rows with the repository's training code, eager and compiled, with
the same seed, then scored on the test rows (compiled prediction for the compiled side).

    python bench/gpu_accuracy.py --data DIR --model DIR [--epochs 2]

DIR holds AG-News-format train.csv and test.csv (header-less label,title,description); the
whole train file is trained on (the notebook's recipe: batch 24, learning rate 5e-5, linear
decay, weight decay 0.01; bucketed batches), the whole test file scored. Dropout masks come
from another generator when compiled, so the two runs are not bit-identical: the figure is
how far apart their test accuracies land.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch
from machine import CLASSES, read_ag_news
from prediction import predict_proba
from speed_sides import encode
from transformers import AutoTokenizer, set_seed

from textclf.config.train_params import TrainParams
from textclf.modeling.loading import load_model_for_training
from textclf.train.training import make_trainer, training_arguments


def fine_tune(compile_setting: str, model_dir: str, train, test, epochs: float) -> dict:
    set_seed(42)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = load_model_for_training(model_dir, CLASSES)
    params = TrainParams(epochs=epochs, sampling="bucketed", compile=compile_setting, min_steps=0)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        args = training_arguments(
            params, scratch, save_strategy="no", eval_strategy="no", report_to="none"
        )
        trainer = make_trainer(model, tokenizer, args, train, None, sampling="bucketed")
        trainer.train()
    train_s = time.perf_counter() - start
    compiled = compile_setting == "on"
    probabilities = predict_proba(
        trainer.model.eval(), tokenizer, test["input_ids"], 64, False, compiled=compiled
    )
    predicted = probabilities.argmax(axis=1)
    return {
        "steps": trainer.state.global_step,
        "train_s": train_s,
        "test_accuracy": float((predicted == np.asarray(test["label"])).mean()),
        "predicted": predicted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", required=True, help="the MiniLM folder")
    parser.add_argument("--epochs", type=float, default=2)
    args = parser.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    train = encode(tokenizer, read_ag_news(args.data / "train.csv"), 512)
    test = encode(tokenizer, read_ag_news(args.data / "test.csv"), 512)
    train = train.rename_column("label", "labels")
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    results = {}
    for side in ("off", "on"):
        try:  # the eager figure still counts if compiling fails
            results[side] = fine_tune(side, args.model, train, test, args.epochs)
        except Exception:
            print(f"train.compile {side}: failed\n{traceback.format_exc()}", flush=True)
            return
        print(side, {k: v for k, v in results[side].items() if k != "predicted"}, flush=True)
    agree = float((results["off"]["predicted"] == results["on"]["predicted"]).mean())
    lines = [
        f"Command: `python bench/gpu_accuracy.py --data <ag_news_mini> --model <MiniLM> "
        f"--epochs {args.epochs:g}` on {device}, torch {torch.__version__}: {len(train):,} "
        f"train rows, {len(test):,} test rows, seed 42.",
        "",
        "| train.compile | steps | training (s, compilation included) | test accuracy |",
        "| --- | --- | --- | --- |",
    ]
    for side, name in (("off", "off (eager)"), ("on", "on (compiled, CUDA graphs)")):
        figures = results[side]
        lines.append(
            f"| {name} | {figures['steps']} | {figures['train_s']:.1f} | "
            f"{figures['test_accuracy']:.4f} |"
        )
    difference = results["on"]["test_accuracy"] - results["off"]["test_accuracy"]
    lines += [
        "",
        f"Compiled minus eager: {100 * difference:+.2f} points; the two models give the same "
        f"class on {agree:.1%} of the test rows.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
