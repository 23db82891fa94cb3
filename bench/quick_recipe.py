"""The quick run's recipe against the TF-IDF baseline: does `make quick`'s transformer beat it
on 1,200 AG News rows, within the same few minutes? Each recipe trains on the same 3 draws of
1,200 train rows (prepare.seed 0, 1, 2: the quick slice of the folder's train.csv) and is
scored on the folder's test.csv (2,000 rows at most), as `make quick` does.

    python bench/quick_recipe.py --data <folder with AG-News-format train.csv and test.csv>

Stages run as `python -m textclf.stages.<stage>` in a scratch folder per draw (bench/machine.py),
draws and recipes interleaved so the machine's drift hits each alike. Figures go to stdout and
to the "Quick recipe" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from machine import cpu_model, minilm_dir, replace_section, run_stage
from ruamel.yaml import YAML
from small_data import write_params

ROOT = Path(__file__).resolve().parents[1]
MARKER = "## Quick recipe: make quick's transformer against TF-IDF"
CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
# each recipe: its params over params.yaml's (the quick slice's caps are added to all)
RECIPES = {
    "1 epoch, 128 tokens, lr 5e-5 (the old quick)": {
        "tokenize": {"max_length": 128},
        "train": {"epochs": 1, "learning_rate": 5e-5},
    },
    "1 epoch, 64 tokens, lr 2e-4, bucketed": {
        "tokenize": {"max_length": 64},
        "train": {"epochs": 1, "learning_rate": 2e-4, "sampling": "bucketed"},
    },
    "2 epochs, 64 tokens, lr 1e-4, bucketed": {
        "tokenize": {"max_length": 64},
        "train": {"epochs": 2, "learning_rate": 1e-4, "sampling": "bucketed"},
    },
}


def params_for(data: Path, model: str, draw: int, recipe: dict) -> dict:
    params = YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text())
    params["data"].update(
        train_url=str(data / "train.csv"), test_url=str(data / "test.csv"), classes=CLASSES
    )
    params["model"]["name"] = model
    params["prepare"].update(
        seed=draw, max_train_rows=1200, max_validation_rows=500, max_test_rows=2000
    )
    params["tokenize"].update(recipe["tokenize"])
    params["train"].update(report_to=[], save_steps=100_000, min_steps=0, **recipe["train"])
    return params


def run_recipe(folder: Path, params: dict, tokenized: dict) -> dict:
    """Train and evaluate `params` in `folder` (prepare/tokenize/baseline as needed)."""
    write_params(folder, params)
    seconds = 0.0
    if not (folder / "data/prepared").exists():
        run_stage(folder, "download")  # a copy of the local files
        seconds += run_stage(folder, "prepare")
        run_stage(folder, "baseline")
    length = params["tokenize"]["max_length"]
    if tokenized.get(folder) != length:
        seconds += run_stage(folder, "tokenize")
        tokenized[folder] = length
    seconds += run_stage(folder, "train") + run_stage(folder, "evaluate")
    train = json.loads((folder / "metrics/train.json").read_text())
    test = json.loads((folder / "metrics/transformer/test.json").read_text())
    baseline = json.loads((folder / "metrics/baseline/test.json").read_text())
    return {
        "accuracy": test["accuracy"],
        "baseline": baseline["accuracy"],
        "steps": train["schedule"]["steps"],
        "train_seconds": round(train["train_runtime_s"], 1),
        "seconds": round(seconds, 1),
    }


def precision() -> str:
    """What `train.precision: auto` trains in here."""
    from textclf.modeling.device import cpu_has_amx

    return "bf16 (train.precision auto: the CPU has AMX)" if cpu_has_amx() else "fp32"


def render(args, results: dict[str, list[dict]]) -> str:
    lines = [
        MARKER,
        "",
        f"Command: `python bench/quick_recipe.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, {precision()}, all-MiniLM-L6-v2; "
        "3 draws of "
        f"1,200 train rows (prepare.seed {', '.join(map(str, args.draws))}) from the folder's "
        "train.csv, 500 validation rows, 2,000 test rows; median over the draws (min-max). "
        "The baseline is the same on each draw whatever the recipe.",
        "",
        "| recipe | steps | transformer accuracy | draws | TF-IDF accuracy | transformer - "
        "TF-IDF (each draw) | train seconds |",
        "| --- | ---: | ---: | --- | ---: | --- | ---: |",
    ]
    for recipe, runs in results.items():
        accuracies = [run["accuracy"] for run in runs]
        baselines = [run["baseline"] for run in runs]
        gaps = ", ".join(f"{run['accuracy'] - run['baseline']:+.4f}" for run in runs)
        lines.append(
            f"| {recipe} | {runs[0]['steps']} | **{statistics.median(accuracies):.4f}** | "
            f"{min(accuracies):.4f}-{max(accuracies):.4f} | {statistics.median(baselines):.4f} "
            f"| {gaps} | {statistics.median(run['train_seconds'] for run in runs):.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default=None, help="model dir (default: MiniLM-L6 package)")
    parser.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--work", type=Path, default=Path("/tmp/textclf-quick-recipe"))
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args()
    args.data = args.data.resolve()  # the stages run in scratch folders
    model = args.model or minilm_dir()
    results: dict[str, list[dict]] = {recipe: [] for recipe in args.recipes}
    tokenized: dict[Path, int] = {}
    for draw in args.draws:
        folder = args.work / f"draw-{draw}"
        folder.mkdir(parents=True, exist_ok=True)
        for recipe in args.recipes:
            run = run_recipe(folder, params_for(args.data, model, draw, RECIPES[recipe]), tokenized)
            results[recipe].append(run)
            print(f"draw {draw}, {recipe}: {run}", flush=True)
    section = render(args, results)
    print(section)
    replace_section(args.results, MARKER, section)


if __name__ == "__main__":
    main()
