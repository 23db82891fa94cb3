"""`textclf score` on Ray Data against the same static student in one process with no Ray, and
against `textclf predict`, on 1,000,000 AG-News-shaped rows in Parquet shards; peak memory of the
driver and of each actor at 100,000 and at 1,000,000 rows; a SIGKILL at about half-way and a
rerun; the same job on a two-node Ray cluster on this machine.

    python bench/score.py --data <AG News CSV> [--rows 1000000] [--shards 8] [--rounds 2]

The student: model2vec token vectors distilled from all-MiniLM-L6-v2 (256 dimensions, the
distill stage's default) and a linear head with random weights: its speed is a trained one's,
its labels mean nothing. Timings are interleaved, rounds x (single process, Ray, predict), and
the median of each is reported; this machine's speed drifts, so only ratios within the run count.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from machine import CLASSES, TreeMemory, cpu_model, minilm_dir, replace_section

from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.formats import read_table
from textclf.distill.static_student import Head, distill_embeddings, save_static_student
from textclf.scale.scorer import score_shard
from textclf.scale.shards import plan
from textclf.ship.runtime import load

SCORE = [sys.executable, "-m", "textclf.score"]
PREDICT = [sys.executable, "-m", "textclf.predict"]


def build_student(folder: Path) -> Path:
    static = distill_embeddings(Path(minilm_dir()), pca_dims=256)
    torch.manual_seed(0)
    head = Head(static.embedding.shape[1], len(CLASSES))
    settings = CheckpointSettings(columns=["label", "title", "description"])
    config = {
        "num_labels": len(CLASSES),
        "id2label": {str(i): name for i, name in enumerate(CLASSES)},
        "textclf": settings.to_config(),
    }
    save_static_student(folder, static, head, config, hidden=0)
    return folder


def build_archive(data: Path, folder: Path, rows: int, shards: int) -> Path:
    """`rows` rows cycled from the real rows, in `shards` Parquet files with an `id` column."""
    table = read_table(data, str(data), "csv", False, ["label", "title", "description"]).frame
    folder.mkdir(parents=True, exist_ok=True)
    per_shard = rows // shards
    for number in range(shards):
        ids = np.arange(number * per_shard, (number + 1) * per_shard)
        picked = table.iloc[ids % len(table)]
        pq.write_table(
            pa.table(
                {
                    "id": ids,
                    "title": picked["title"].tolist(),
                    "description": picked["description"].tolist(),
                }
            ),
            folder / f"shard-{number:02d}.parquet",
            row_group_size=50_000,
        )
    return folder


def run_score(student: Path, archive: Path, output: Path, *extra: str) -> tuple[float, int, int]:
    """Seconds, driver peak RSS, largest actor peak RSS of one `textclf score` job."""
    start = time.perf_counter()
    job = subprocess.Popen(
        [*SCORE, "--model", str(student), "--input", str(archive), "--output", str(output), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    memory = TreeMemory(job.pid)
    stdout, _ = job.communicate()
    seconds = time.perf_counter() - start
    driver, actor = memory.stop()
    if job.returncode:
        raise SystemExit(f"textclf score failed:\n{stdout}")
    print("   ", stdout.strip().splitlines()[-3], flush=True)
    return seconds, driver, actor


def run_single(student: Path, archive: Path, output: Path) -> float:
    """The same shards scored by the same code in this process, one after another, no Ray."""
    start = time.perf_counter()
    classifier = load(student)
    output.mkdir(parents=True)
    columns = ["id", "title", "description"]
    for shard in plan(str(archive), 10**9):
        score_shard(shard, output, classifier, 64, "auto", None, columns)
    return time.perf_counter() - start


def run_predict(student: Path, archive: Path, output: Path) -> float:
    """`textclf predict` over each shard in turn (it reads a file whole)."""
    start = time.perf_counter()
    output.mkdir(parents=True)
    for shard in sorted(archive.glob("*.parquet")):
        subprocess.run(
            [
                *PREDICT,
                "--model",
                str(student),
                "--input",
                str(shard),
                "--output",
                str(output / shard.name),
            ],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - start


def killed_and_rerun(student: Path, archive: Path, output: Path, shards: int) -> str:
    job = subprocess.Popen(
        [*SCORE, "--model", str(student), "--input", str(archive), "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while len(list(output.glob("*.parquet"))) < shards // 2 and job.poll() is None:
        time.sleep(0.2)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    time.sleep(2)
    with contextlib.suppress(ProcessLookupError):  # what Ray started for the killed driver
        os.killpg(job.pid, signal.SIGKILL)
    done = len(list(output.glob("*.parquet")))
    rerun = subprocess.run(
        [*SCORE, "--model", str(student), "--input", str(archive), "--output", str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    skipped = next(line for line in rerun.stdout.splitlines() if "already scored" in line)
    return f"{done} of {shards} shards done when killed; rerun: {skipped}"


def two_node_run(student: Path, archive: Path, output: Path) -> tuple[float, str]:
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        start = time.perf_counter()
        result = subprocess.run(
            [
                *SCORE,
                "--model",
                str(student),
                "--input",
                str(archive),
                "--output",
                str(output),
                "--address",
                cluster.address,
                "--actors",
                "2",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return time.perf_counter() - start, result.stdout.strip().splitlines()[-3]
    finally:
        cluster.shutdown()


def same_rows(first: Path, second: Path, rows: int) -> bool:
    a = pq.read_table(first, columns=["id", "predicted"]).sort_by("id")
    b = pq.read_table(second, columns=["id", "predicted"]).sort_by("id")
    return a["id"].to_pylist() == list(range(rows)) and a.equals(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="an AG-News-format CSV")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="score-bench-"))
    student = build_student(work / "student")
    big = build_archive(args.data, work / "archive", args.rows, args.shards)
    small = build_archive(args.data, work / "archive-small", args.rows // 10, args.shards)
    times: dict[str, list[float]] = {"single": [], "ray": [], "predict": []}
    memory = {}
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}", flush=True)
        times["single"].append(run_single(student, big, work / f"single-{round_}"))
        seconds, driver, actor = run_score(student, big, work / f"ray-{round_}")
        times["ray"].append(seconds)
        memory["big"] = (driver, actor)
        times["predict"].append(run_predict(student, big, work / f"predict-{round_}"))
        print({name: f"{values[-1]:.1f} s" for name, values in times.items()}, flush=True)
    _, *memory["small"] = run_score(student, small, work / "ray-small")
    resumed = killed_and_rerun(student, big, work / "killed", args.shards)
    print(resumed, flush=True)
    exactly_once = same_rows(work / "killed", work / "ray-0", args.rows)
    cluster_seconds, cluster_line = two_node_run(student, big, work / "two-nodes")
    same_on_cluster = same_rows(work / "two-nodes", work / "ray-0", args.rows)
    median = {name: statistics.median(values) for name, values in times.items()}
    rate = {name: args.rows / seconds for name, seconds in median.items()}
    mib = 2**20
    lines = [
        "## Scoring an archive on Ray Data (`textclf score`)",
        "",
        f"Command: `python bench/score.py --data <AG News test.csv> --rows {args.rows} "
        f"--shards {args.shards} --rounds {args.rounds}`",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; Ray on this machine (one actor per "
        "core). The static student (all-MiniLM-L6-v2's token vectors, 256 dimensions, a linear "
        f"head), {args.rows:,} AG-News-shaped rows (the real rows cycled) in {args.shards} "
        f"Parquet shards. Medians of {args.rounds} interleaved rounds; wall time of the whole "
        "command (Ray's start and the model's load included).",
        "",
        "| way | wall time | texts/s | against one process |",
        "| --- | --- | --- | --- |",
    ]
    names = {
        "single": "one process, no Ray (the same scorer, shard after shard)",
        "ray": "`textclf score` (Ray Data, actor pool)",
        "predict": "`textclf predict`, shard after shard",
    }
    for name in ("single", "ray", "predict"):
        lines.append(
            f"| {names[name]} | {median[name]:.1f} s | {rate[name]:,.0f} | "
            f"{rate[name] / rate['single']:.2f}x |"
        )
    big_driver, big_actor = memory["big"]
    small_driver, small_actor = memory["small"]
    lines += [
        "",
        "| peak RSS | 100,000 rows | 1,000,000 rows | ratio |",
        "| --- | --- | --- | --- |",
        f"| driver | {small_driver / mib:,.0f} MiB | {big_driver / mib:,.0f} MiB | "
        f"{big_driver / small_driver:.2f}x |",
        f"| largest actor | {small_actor / mib:,.0f} MiB | {big_actor / mib:,.0f} MiB | "
        f"{big_actor / small_actor:.2f}x |",
        "",
        f"SIGKILL of the driver at about half-way, then a rerun: {resumed}; every row exactly "
        f"once and equal to the uninterrupted run: {'yes' if exactly_once else 'NO'}.",
        "",
        f"The same command against a two-node Ray cluster on this machine (`ray.cluster_utils`: "
        f"a head and a worker node of one CPU each): {cluster_seconds:.1f} s, `{cluster_line}`; "
        f"the same output: {'yes' if same_on_cluster else 'NO'}.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    replace_section(args.results, lines[0], section)


if __name__ == "__main__":
    main()
