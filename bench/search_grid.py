"""Small data: `textclf search` (6 trials of the default search.space) against a hand-made grid
over epochs and learning rate, and against the default recipe (train.min_steps), on the same
real rows as bench/small_data.py.

    python bench/search_grid.py --data <folder with AG-News-format train.csv and test.csv> \
        --sizes 400 --grid-epochs 2 5 10 --grid-lr 3e-5 1e-4

For each task and size: the grid trains every epochs x learning rate pair (train.min_steps 0,
train.seed 42) and keeps the pair with the best validation accuracy (then the lower validation
loss); the search runs `textclf search --trials N --apply` in a git + DVC copy of this project
(every trial a DVC experiment, the winner picked on validation, scored on test once). Each
winner is then rerun with the other seeds and reported as the median test accuracy, beside the
default recipe (min_steps, bench/small_data.py's runs, shared through runs.json). The test split
never picks anything. Figures go to stdout and to the "Small data: search" section of
bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from machine import cpu_model, replace_section
from small_data import (
    accuracy_cells,
    cached,
    cached_run,
    prepare_task,
    read_tasks,
    task_arguments,
    write_params,
)

ROOT = Path(__file__).resolve().parents[1]
MARKER = "## Small data: textclf search against a hand-made grid"
PROJECT_FILES = ["dvc.yaml", ".gitignore"]


def checked(command: list[str], folder: Path) -> None:
    """Run `command` in `folder` with this checkout's src/ and this interpreter's environment
    first on PATH (dvc.yaml's `python`); end the benchmark if it fails."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PATH": path}
    if subprocess.run(command, cwd=folder, env=env).returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed in {folder}")


def search_project(folder: Path, base: dict) -> Path:
    """A git + DVC copy of this project in `folder`/search-project with the task's params."""
    project = folder / "search-project"
    if (project / ".git").is_dir():
        return project  # a rerun continues its study
    project.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, project / name)
    # the stages' code is a dependency of every stage (dvc.yaml)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    write_params(project, base)
    for command in (
        ["git", "init", "-q"],
        ["git", "config", "user.email", "bench@example.com"],
        ["git", "config", "user.name", "bench"],
        [sys.executable, "-m", "dvc", "init", "-q", "--force"],
    ):
        checked(command, project)
    shutil.copy2(ROOT / ".dvc/config", project / ".dvc/config")  # after init, which writes one
    checked(["git", "add", "-A"], project)
    checked(["git", "commit", "-qm", "project"], project)
    return project


def search_winner(project: Path, trials: int, seed: int) -> dict:
    """Run (or continue) the search with --apply: the winner's train values, its validation
    accuracy and its test accuracy (scored once, by --apply)."""
    search_metrics = project / "metrics/transformer/test.json"
    checked([sys.executable, "-m", "textclf.search", "--trials", str(trials), "--apply"], project)
    board = pd.read_csv(project / "search/search.csv")
    best = board[board["state"] == "complete"].iloc[0]
    values = {
        key.removeprefix("train."): best[key].item()
        for key in board.columns
        if key.startswith("train.")
    }
    return {
        "seed": seed,
        "values": values,
        "accuracy": json.loads(search_metrics.read_text())["accuracy"],
        "validation_accuracy": float(best["eval_accuracy"]),
    }


def grid_winner(args, folder: Path, base: dict) -> tuple[str, dict, dict, int]:
    """Every grid pair with the first seed; the best on validation (then the lower validation
    loss): its label, train values and run, and the number of pairs."""
    pairs = []
    for epochs in args.grid_epochs:
        for rate in args.grid_lr:
            label = f"grid epochs {epochs} lr {rate:g}"
            train = {"epochs": epochs, "learning_rate": rate, "min_steps": 0}
            run = cached_run(folder, f"{label}, seed {args.seeds[0]}", base, args.seeds[0], train)
            print(f"{folder.name} {label}: {run}", flush=True)
            pairs.append((label, train, run))
    label, train, run = max(
        pairs, key=lambda pair: (pair[2]["validation_accuracy"], -pair[2]["validation_loss"])
    )
    return label, train, run, len(pairs)


def seeded(args, folder: Path, base: dict, label: str, train: dict, first: dict) -> list[dict]:
    """`first` (seed args.seeds[0]) and reruns of `train` with the other seeds."""
    runs = [first]
    for seed in args.seeds[1:]:
        runs.append(cached_run(folder, f"{label}, seed {seed}", base, seed, train))
    return runs


def run_task(args, name: str, labels: list[int], size: int, rows: dict) -> dict:
    folder, base, baseline = prepare_task(args, name, labels, size, rows)
    grid_label, grid_train, grid_first, pairs = grid_winner(args, folder, base)
    grid = seeded(args, folder, base, grid_label, grid_train, grid_first)

    first = cached(  # kept, so that a rerun needs neither the study nor its project
        folder,
        f"search ({args.trials} trials), seed {args.seeds[0]}",
        lambda: search_winner(search_project(folder, base), args.trials, args.seeds[0]),
    )
    values = first["values"]
    recipe = ", ".join(f"{key} {value:.3g}" for key, value in values.items())
    search = seeded(args, folder, base, f"search winner {recipe}", values, first)

    defaults = [
        cached_run(
            folder,
            f"min_steps {args.min_steps}, seed {seed}",
            base,
            seed,
            {"min_steps": args.min_steps},
        )
        for seed in args.seeds
    ]
    return {
        "task": name,
        "size": size,
        "baseline": baseline,
        "rows": [
            (f"default (min_steps {args.min_steps})", defaults),
            (f"best of the {pairs}-pair grid: {grid_label.removeprefix('grid ')}", grid),
            (f"search ({args.trials} trials): {recipe}", search),
        ],
    }


def render(args, results: list[dict]) -> str:
    lines = [
        MARKER,
        "",
        f"Command: `python bench/search_grid.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, fp32, model {args.model_name}, "
        f"{args.max_length} tokens; rows as in the Small data section (the same subsets). Grid: "
        f"train.epochs {args.grid_epochs} x train.learning_rate {args.grid_lr}, min_steps 0, "
        f"picked on validation accuracy (seed {args.seeds[0]}); search: the default "
        "search.space, picked by `textclf search` on validation. Test accuracy: median of "
        f"train.seed {', '.join(map(str, args.seeds))} (min-max) of the picked recipe.",
        "",
        "| task | train rows | recipe | test accuracy | seeds | validation (first seed) | "
        "TF-IDF baseline |",
        "| --- | ---: | --- | ---: | --- | ---: | ---: |",
    ]
    for result in results:
        for label, runs in result["rows"]:
            lines.append(
                f"| {result['task']} | {result['size']} | {label} | {accuracy_cells(runs)} | "
                f"{runs[0]['validation_accuracy']:.4f} | {result['baseline']:.4f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = task_arguments(__doc__.split("\n")[0], sizes=[400])
    parser.add_argument("--min-steps", type=int, default=300, help="the default recipe's")
    parser.add_argument("--grid-epochs", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument("--grid-lr", type=float, nargs="+", default=[3e-5, 1e-4])
    parser.add_argument("--trials", type=int, default=6)
    args, rows, tasks = read_tasks(parser)
    results = []
    for size in args.sizes:
        for name, labels in tasks:
            results.append(run_task(args, name, labels, size, rows))
            replace_section(args.results, MARKER, render(args, results))
    print(render(args, results))


if __name__ == "__main__":
    main()
