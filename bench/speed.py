"""Training and prediction speed: the notebook's configuration against this repository's code,
side by side on the same model, rows and machine, each side of each round in a fresh process.

    python bench/speed.py --data ../shared/data/ag_news_mini --train-rows 1000 --repeats 2

(a) notebook: truncation at the model maximum, dynamic padding, batch 24, random order, fp32,
    evaluation each epoch, `Trainer.predict` for the test set;
(b) repo: `textclf.train.training` with length-bucketed batches of 24 in random order, a max
    length taken from the token-length distribution and `precision: auto` (bf16 on CPUs with
    AMX, else fp32); test prediction with bench/prediction.py's `predict_proba` (length-sorted,
    `torch.inference_mode`, `precision: auto`); with --int8 also fp32 prediction after dynamic
    int8 quantization.
The CPU's speed drifts over minutes, so the sides run interleaved (a b a b ...) and ratios are
medians of per-round ratios. Figures go to stdout and to bench/RESULTS.md, whose first
section they replace (the other benchmarks' sections stay).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from machine import cap_rows, matmul_peak_flops, minilm_dir, read_ag_news, split_validation
from speed_report import per_round_table, render, summarize, write_speed_section
from speed_sides import bare_step_ceiling, non_embedding_params, train_and_predict
from transformers import AutoTokenizer

from textclf.modeling.device import autocast_dtype, inference_device

FIGURES = "figures: "  # the line a side's process prints its figures on


def repro_overhead() -> str:
    """Wall time of `dvc repro` with nothing to do, in this checkout, if it is up to date."""
    if not Path("dvc.lock").exists() or subprocess.run(["dvc", "status", "-q"]).returncode != 0:
        return "not measured (the pipeline here is not up to date: run `dvc repro` first)"
    start = time.perf_counter()
    subprocess.run(["dvc", "repro"], check=True, capture_output=True)
    return f"{time.perf_counter() - start:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/ag_news_mini", type=Path)
    parser.add_argument("--model", default=None, help="model dir (default: MiniLM-L6 package)")
    parser.add_argument("--train-rows", type=int, default=1000)
    parser.add_argument("--test-rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--int8", action="store_true", help="also measure int8 prediction")
    parser.add_argument("--seed", type=int, default=42, help="round r trains with seed + r")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="the repo side's precision (auto: bf16 where native; fp32 for a like-for-like row)",
    )
    parser.add_argument("--results", default=Path(__file__).parent / "RESULTS.md", type=Path)
    # internal: one side of one round, run in a fresh process by the command above
    parser.add_argument("--side", choices=["notebook", "repo"], help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    model_name = args.model or minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    splits, repo_max_length, notebook_max_length = bench_splits(args, tokenizer)
    repo_dtype = autocast_dtype(args.precision, inference_device())
    if args.side:
        length = notebook_max_length if args.side == "notebook" else repo_max_length
        seed = args.seed + args.round
        figures = train_and_predict(
            args.side, model_name, tokenizer, splits, length, seed, args.int8, args.precision
        )
        if args.side == "repo":
            figures["ceiling"] = bare_step_ceiling(model_name, None)
            figures["ceiling_repo"] = bare_step_ceiling(model_name, repo_dtype)
        print(FIGURES + json.dumps(figures), flush=True)
        return

    sides = ["notebook", "repo"]
    rounds = []
    for round_index in range(args.repeats):
        figures = {side: side_in_fresh_process(side, round_index) for side in sides}
        for ceiling in ("ceiling", "ceiling_repo"):
            figures[ceiling] = figures["repo"].pop(ceiling)
        for side in sides:
            print(f"round {round_index + 1} {side}: {figures[side]}", flush=True)
        print(
            f"round {round_index + 1} ceilings: fp32 {figures['ceiling']:.1f}, "
            f"repo precision {figures['ceiling_repo']:.1f}",
            flush=True,
        )
        rounds.append(figures)

    peak = matmul_peak_flops()
    flops_per_token = 6 * non_embedding_params(model_name)
    report = summarize(rounds, sides, peak, flops_per_token)
    overhead = repro_overhead()
    repo_precision = str(repo_dtype or "fp32").replace("torch.", "")
    text = render(
        args, report, repo_max_length, notebook_max_length, peak, overhead, repo_precision
    )
    text += "\n".join(["", *per_round_table(rounds, args.seed), ""])
    print(text)
    write_speed_section(args.results, text)


def bench_splits(args: argparse.Namespace, tokenizer) -> tuple[dict, int, int]:
    """The train/validation/test rows (the notebook's 90/10 split, capped), the repo side's
    max length (the 99.5th percentile of the train rows' token lengths) and the notebook's."""
    examples = read_ag_news(args.data / "train.csv")
    train, validation = split_validation(examples, 0.1, seed=1122)
    test = read_ag_news(args.data / "test.csv")
    splits = {
        "train": cap_rows(train, args.train_rows, 1122),
        "validation": cap_rows(validation, max(args.train_rows // 9, 1), 1122),  # 90/10
        "test": cap_rows(test, args.test_rows, 1122),
    }
    lengths = [len(ids) for ids in tokenizer(splits["train"]["text"].tolist())["input_ids"]]
    # the 99.5th percentile, rounded up to a multiple of 8, truncates almost nothing
    repo_max_length = min(int(np.ceil(np.percentile(lengths, 99.5) / 8) * 8), 512)
    return splits, repo_max_length, min(tokenizer.model_max_length, 512)


def side_in_fresh_process(side: str, round_index: int) -> dict:
    """The figures of one side of one round, measured in a new Python process: each side pays
    its own start-up, and process-wide settings of one side cannot reach the other."""
    command = [sys.executable, __file__, *sys.argv[1:], "--side", side, "--round", str(round_index)]
    result = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith(FIGURES)]
    if result.returncode != 0 or not lines:
        sys.exit(f"error: the {side} side of round {round_index + 1} failed:\n{result.stderr}")
    return json.loads(lines[-1].removeprefix(FIGURES))


if __name__ == "__main__":
    main()
