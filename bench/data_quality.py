"""Label errors on real data: flip a share of the train labels at random (seeded), run prepare
and the quality stage, and measure how many of the flips the label-issue ranking puts first.

    python bench/data_quality.py --data <folder with AG-News-format train.csv and test.csv> \
        --flip 0.05 --models baseline

Reports, per `quality.model`: precision@k (k = flipped rows that landed in the train split:
the share of label_issues.csv's top k rows that are flips), recall of all flagged rows, the
estimated label_error_rate against the true flip rate, and the stages' wall time (quality,
with quality_folds for the transformer). The flipped
file is written to the scratch folder, never to the repository. Figures go to stdout and to the
"Label errors" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from machine import cpu_model, minilm_dir, replace_section, run_stage
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
MARKER = "## Label errors: the quality stage on flipped AG News labels"


def flip_labels(source: Path, target: Path, share: float, seed: int) -> set[int]:
    """Copy `source` to `target` with `share` of the rows given another label at random;
    return the flipped rows' line numbers."""
    with source.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(rows), round(share * len(rows)), replace=False)
    labels = sorted({row[0] for row in rows})
    for index in flipped:
        rows[index][0] = str(rng.choice([label for label in labels if label != rows[index][0]]))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return {int(index) + 1 for index in flipped}


def measure(folder: Path, flipped: set[int]) -> dict:
    issues = pd.read_csv(folder / "metrics/quality/label_issues.csv")
    lines = [int(re.search(r":(\d+)$", source).group(1)) for source in issues["source"]]
    train = pd.read_parquet(folder / "data/prepared/train.parquet", columns=["position"])
    in_train = flipped & set(train["position"].tolist())
    k = len(in_train)
    report = json.loads((folder / "metrics/quality.json").read_text())
    return {
        "train_rows": len(train),
        "flips_in_train": k,
        "flagged": len(issues),
        "precision_at_k": round(sum(line in in_train for line in lines[:k]) / k, 4),
        "recall_flagged": round(sum(line in in_train for line in lines) / k, 4),
        "label_error_rate": report["label_error_rate"],
        "true_rate": round(k / len(train), 4),
        "out_of_fold_accuracy": report["out_of_fold_accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--flip", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0, help="of the flips")
    parser.add_argument("--models", nargs="+", default=["baseline"])
    parser.add_argument("--model", default=None, help="transformer: model dir (default MiniLM)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--work", type=Path, default=Path("/tmp/textclf-label-errors"))
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args()
    args.data, folder = args.data.resolve(), args.work
    train_csv = folder / "flipped/train.csv"
    flipped = flip_labels(args.data / "train.csv", train_csv, args.flip, args.seed)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    params = yaml.load((ROOT / "params.yaml").read_text())
    params["data"].update(train_url=str(train_csv), test_url=str(args.data / "test.csv"))
    params["model"]["name"] = args.model or minilm_dir()
    params["tokenize"]["max_length"] = args.max_length
    params["train"].update(report_to=[], save_steps=100_000)
    rows = []
    for model in args.models:
        params["quality"]["model"] = model
        with (folder / "params.yaml").open("w") as file:
            yaml.dump(params, file)
        run_stage(folder, "download")
        run_stage(folder, "prepare")
        seconds = 0.0
        if model == "transformer":
            run_stage(folder, "tokenize")
            seconds += run_stage(folder, "quality_folds")  # the fine-tune per fold
        seconds += run_stage(folder, "quality")
        rows.append({"model": model, **measure(folder, flipped), "seconds": round(seconds, 1)})
        print(rows[-1], flush=True)
    lines = [
        MARKER,
        "",
        f"Command: `python bench/data_quality.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores. Data: {args.data}/train.csv with "
        f"{args.flip:.0%} of its labels flipped at random (seed {args.seed}); quality defaults "
        f"(5 folds); transformer: {args.model or 'all-MiniLM-L6-v2'}, {args.max_length} tokens, "
        "the train params' defaults.",
        "",
        "| quality.model | train rows | flips in train | flagged | precision@k | recall of "
        "flagged | label_error_rate | true rate | out-of-fold accuracy | stage seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['train_rows']} | {row['flips_in_train']} | "
            f"{row['flagged']} | **{row['precision_at_k']:.3f}** | {row['recall_flagged']:.3f} "
            f"| {row['label_error_rate']:.4f} | {row['true_rate']:.4f} | "
            f"{row['out_of_fold_accuracy']:.4f} | {row['seconds']} |"
        )
    replace_section(args.results, MARKER, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
