"""Training speed on a GPU at the notebook's scale: a bert-base-shaped model on 108,000
AG-News-length rows, the notebook's Trainer setup against this repository's, in one process.

    python bench/gpu_speed.py --data DIR --tokenizer DIR [--rows 108000 --steps 400]

DIR holds an AG-News-format test.csv (header-less label,title,description); its rows are
drawn with replacement (seeded) up to --rows, so lengths follow real AG News. The model is
bert-base's shape (12 layers, hidden 768) with random weights: speed does not depend on the
weights, and no hub download is needed. Sides, each timed over --steps optimizer steps after
--warmup steps (CUDA synchronized at both ends):
  notebook   the notebook's TrainingArguments (fp32, random order, batch 24)
  repo       textclf.train.training with `precision: auto` (bf16), `sampling: bucketed` and
             `compile: off` (eager PyTorch)
  repo/random  the same with `sampling: random`, to separate the sampler's share
  repo/compiled  `compile: on`: torch.compile with CUDA graphs, batches padded to multiples of
             32 tokens (textclf.modeling.compiled); prediction compiled too
  repo/compiled/unpadded  the same on unpadded batches where the model family supports them
             here (else it says so and is skipped)
  .../batchN   any side with a per-device batch of N instead of 24
Prediction is timed on the file's first rows (the notebook's Trainer.predict against
bench/prediction.py's predict_proba). Projected time of the notebook's run: 2 epochs over --rows,
plus evaluation of the 10% validation split each epoch and of 7,600 test rows.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch
from gpu_model import (
    DATASHEET_BF16_PEAK,
    SHAPE,
    SHAPES,
    bare_step,
    bert_base,
    flops_per_token,
    measured_bf16_peak,
)
from machine import cpu_model, read_ag_news
from prediction import predict_proba
from speed_report import figure_table
from speed_sides import encode
from transformers import (
    AutoTokenizer,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from textclf.config.train_params import TrainParams
from textclf.modeling.compiled import unpadded_supported
from textclf.modeling.device import autocast_dtype, inference_device
from textclf.train.training import make_trainer, training_arguments


class StepTimer(TrainerCallback):
    """Wall time between the end of step `warmup` and the end of the last step."""

    def __init__(self, warmup: int):
        self.warmup, self.start, self.seconds = warmup, None, None

    def _now(self) -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.warmup:
            self.start = self._now()
        elif state.global_step == state.max_steps:
            self.seconds = self._now() - self.start


def side_batch(side: str) -> int:
    """The per-device batch of a side: 24 (the notebook's), or N for a side named `.../batchN`."""
    return int(side.rsplit("/batch", 1)[1]) if "/batch" in side else 24


def train_side(side: str, tokenizer, train, steps: int, warmup: int, scratch: str) -> dict:
    set_seed(42)
    batch = side_batch(side)
    model = bert_base(len(tokenizer))
    timer = StepTimer(warmup)
    quiet = dict(
        max_steps=warmup + steps,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        logging_steps=10**9,
    )
    if side == "notebook":
        args = TrainingArguments(
            output_dir=scratch,
            per_device_train_batch_size=24,
            weight_decay=0.01,
            use_cpu=not torch.cuda.is_available(),
            seed=42,
            **quiet,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train,
            processing_class=tokenizer,
            callbacks=[timer],
        )
    else:
        sampling = "random" if side.startswith("repo/random") else "bucketed"
        compiled = "compiled" in side
        params = TrainParams(
            batch_size=batch,
            weight_decay=0.01,
            sampling=sampling,
            compile="on" if compiled else "off",
        )
        args = training_arguments(params, scratch, **quiet)
        trainer = make_trainer(model, tokenizer, args, train, None, [timer], sampling)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    figures = {"train_samples_per_s": steps * batch / timer.seconds}
    if torch.cuda.is_available():
        figures["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return figures, trainer


def predict_side(side: str, trainer, tokenizer, test) -> float:
    """Prediction samples/s on `test`, as each side predicts, after an untimed warm-up call."""
    model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False).eval()
    for rows in (test.select(range(min(256, len(test)))), test):
        start = time.perf_counter()
        if side == "notebook":
            trainer.predict(rows)
        else:
            compiled = "compiled" in side
            ids = rows["input_ids"]
            predict_proba(model, tokenizer, ids, 64, progress=False, compiled=compiled)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    return len(test) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with test.csv")
    parser.add_argument("--tokenizer", required=True, help="a BERT tokenizer folder")
    parser.add_argument("--rows", type=int, default=108_000)
    parser.add_argument("--steps", type=int, default=400, help="timed steps per side")
    parser.add_argument("--warmup", type=int, default=50, help="untimed steps first")
    parser.add_argument("--test-rows", type=int, default=7_600, help="rows to predict")
    parser.add_argument("--sides", default="notebook,repo,repo/random")
    parser.add_argument("--results", type=Path, help="also write the Markdown here")
    parser.add_argument(
        "--budget-s", type=float, default=420, help="start no side after this many seconds"
    )
    parser.add_argument("--shape", choices=list(SHAPES), default="base")
    args = parser.parse_args()
    SHAPE.update(SHAPES[args.shape])
    started = time.perf_counter()

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    tokenizer.model_max_length = 512
    rows = read_ag_news(args.data / "test.csv")
    drawn = rows.iloc[np.random.default_rng(1122).integers(0, len(rows), args.rows)]
    start = time.perf_counter()
    train = encode(tokenizer, drawn.reset_index(drop=True), 512)
    tokenize_s = time.perf_counter() - start
    test = encode(tokenizer, rows.head(args.test_rows), 512)
    lengths = np.asarray(train["length"])
    mean_length = float(lengths.mean())

    on_gpu = torch.cuda.is_available()
    device_name = torch.cuda.get_device_name() if on_gpu else cpu_model()
    datasheet = next((v for k, v in DATASHEET_BF16_PEAK.items() if k in device_name), None)
    measured = measured_bf16_peak() if on_gpu else None
    model_flops = flops_per_token(bert_base(len(tokenizer)), mean_length)
    repo_dtype = str(autocast_dtype("auto", inference_device()) or "fp32")

    ceilings = {}
    if on_gpu:
        for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
            ceilings[name] = bare_step(len(tokenizer), round(mean_length), dtype)
        print("bare-step ceilings (samples/s):", ceilings, flush=True)

    report = {}
    for side in args.sides.split(","):
        if time.perf_counter() - started > args.budget_s:
            print(f"{side}: skipped, the --budget-s of {args.budget_s:.0f} s is spent", flush=True)
            continue
        if "unpadded" in side and not unpadded_supported(bert_base(len(tokenizer))):
            print(f"{side}: skipped, this machine cannot train unpadded batches", flush=True)
            continue
        side_started = time.perf_counter()
        try:  # one failing side must not cost the others' figures (GPU time is scarce)
            with tempfile.TemporaryDirectory() as scratch:
                figures, trainer = train_side(
                    side, tokenizer, train, args.steps, args.warmup, scratch
                )
                figures["predict_samples_per_s"] = predict_side(side, trainer, tokenizer, test)
        except Exception:
            print(f"{side}: failed\n{traceback.format_exc()}", flush=True)
            continue
        del trainer
        if on_gpu:
            torch.cuda.empty_cache()
        tokens_per_s = figures["train_samples_per_s"] * mean_length
        for name, peak in (("mfu_datasheet", datasheet), ("mfu_measured", measured)):
            if peak:
                figures[name] = tokens_per_s * model_flops / peak
        validation_rows = args.rows // 9  # the 90/10 split of the notebook's 120,000 rows
        figures["projected_min"] = (
            2 * args.rows / figures["train_samples_per_s"]
            + (2 * validation_rows + 7_600) / figures["predict_samples_per_s"]
        ) / 60
        figures["side_s"] = time.perf_counter() - side_started
        report[side] = figures
        print(side, {k: round(v, 3) for k, v in figures.items()}, flush=True)

    text = render(args, report, device_name, repo_dtype, mean_length, lengths, tokenize_s)
    if datasheet and measured:
        text += f"\nbf16 peaks: data sheet {datasheet / 1e12:.0f} TFLOP/s, measured "
        text += f"{measured / 1e12:.0f} TFLOP/s (8192^3 matmul). MFU counts model FLOPs "
        text += "(6 x non-embedding parameters + 12 x layers x hidden x length per token) "
        text += "of real, non-padding tokens.\n"
    if ceilings:
        text += (
            f"\nBare-step ceiling (forward + backward + fused AdamW on one fixed 24 x "
            f"{round(mean_length)}-token batch, eager PyTorch, no data loading or Trainer): "
            f"{ceilings['fp32']:.0f} samples/s in fp32, {ceilings['bf16']:.0f} in bf16.\n"
        )
    print(text)
    if args.results:
        args.results.write_text(text, encoding="utf-8")


def render(args, report, device_name, repo_dtype, mean_length, lengths, tokenize_s) -> str:
    sides = list(report)
    rows = [
        ("train samples/s", "train_samples_per_s", "{:.0f}"),
        ("prediction samples/s", "predict_samples_per_s", "{:.0f}"),
        ("peak GPU memory (GiB)", "peak_gpu_gib", "{:.1f}"),
        ("MFU (real tokens, data-sheet bf16 peak)", "mfu_datasheet", "{:.1%}"),
        ("MFU (real tokens, measured bf16 peak)", "mfu_measured", "{:.1%}"),
        ("projected notebook run: 2 epochs + evaluation (min)", "projected_min", "{:.1f}"),
        ("this side's wall time, compilation included (s)", "side_s", "{:.0f}"),
    ]
    base = report[sides[0]]["train_samples_per_s"]
    lines = [
        "## GPU: notebook scale",
        "",
        f"Command: `python bench/gpu_speed.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {device_name}, {platform.machine()}, torch {torch.__version__}. "
        f"bert-base shape (12 x 768, random weights, the vocabulary of `--tokenizer`), "
        f"{args.rows:,} rows drawn from real AG News "
        f"(tokens per row: mean {mean_length:.1f}, median {statistics.median(lengths):.0f}, "
        f"max {lengths.max()}; tokenized in {tokenize_s:.1f} s), batch 24 unless the side's name "
        f"says `batchN`, {args.steps} timed steps after {args.warmup} warm-up steps per side. "
        f"Precision: notebook fp32, repo {repo_dtype.replace('torch.', '')} (`precision: auto`).",
        "",
        *figure_table(rows, report, sides),
    ]
    ratios = [f"{report[s]['train_samples_per_s'] / base:.2f}x" for s in sides]
    lines.append("| train speed / notebook | " + " | ".join(ratios) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
