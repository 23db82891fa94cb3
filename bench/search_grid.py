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
default recipe (min_steps, bench/small_data.py's runs, shared through runs.json), and the
default and the grid's pick are compared with the search's pick on the same test rows (the paired
bootstrap of `textclf compare`, over the test rows and the seeds). The test split never picks
anything. Figures go to stdout and to the "Small data: search" section of bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
from machine import cpu_model, replace_section
from small_data import (
    accuracy_cells,
    cached,
    cached_run,
    prepare_task,
    read_tasks,
    recorded,
    run_key,
    task_arguments,
    train_once,
    write_params,
)

from textclf.evaluate.comparison import compare, read_predictions

ROOT = Path(__file__).resolve().parents[1]
MARKER = "## Small data: textclf search against a hand-made grid"
PROJECT_FILES = ["dvc.yaml", ".gitignore"]
PREDICTIONS = "metrics/transformer/predictions.csv"


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


def kept_path(folder: Path, key: str) -> Path:
    """Where a run's test predictions are kept: they hold test texts, so they stay in the
    scratch folder (bench/runs/ keeps figures only)."""
    name = "".join(c if c.isalnum() else "-" for c in key)
    return folder / "predictions" / f"{name}.csv"


def keep_predictions(
    source: Path, folder: Path, key: str, run: dict, retrain: Callable[[], dict] | None
) -> None:
    """Keep `source` (the test predictions of the run just made) as the run's predictions; a
    run recorded without them (an older runs.json) is first retrained with `retrain()`, which
    must score what the run scored then."""
    kept = kept_path(folder, key)
    if kept.exists():
        return
    if retrain is not None:
        print(f"{folder.name} {key}: trains again, to keep its test predictions", flush=True)
        again = retrain()
        if again["accuracy"] != run["accuracy"]:
            sys.exit(f"error: {key}: retrained to {again['accuracy']}, was {run['accuracy']}")
    kept.parent.mkdir(exist_ok=True)
    shutil.copy2(source, kept)


def kept_run(
    folder: Path, key: str, base: dict, seed: int, train: dict, needed: bool = True
) -> dict:
    """cached_run's result, with its test predictions kept: always for a run made now, and, if
    `needed`, for a recorded one too (see keep_predictions)."""
    was_recorded = key in recorded(folder)
    run = cached_run(folder, key, base, seed, train)
    if not was_recorded:
        keep_predictions(folder / PREDICTIONS, folder, key, run, None)
    elif needed:
        retrain = partial(train_once, folder, base, seed, train)
        keep_predictions(folder / PREDICTIONS, folder, key, run, retrain)
    return run


def grid_winner(args, folder: Path, base: dict) -> tuple[str, dict, int]:
    """Every grid pair with the first seed; the best on validation (then the lower validation
    loss): its label and train values, and the number of pairs."""
    pairs = []
    for epochs in args.grid_epochs:
        for rate in args.grid_lr:
            label = f"grid epochs {epochs} lr {rate:g}"
            train = {"epochs": epochs, "learning_rate": rate, "min_steps": 0}
            key = run_key(label, args.seeds[0])
            run = kept_run(folder, key, base, args.seeds[0], train, needed=False)
            print(f"{folder.name} {label}: {run}", flush=True)
            pairs.append((label, train, run))
    label, train, _ = max(
        pairs, key=lambda pair: (pair[2]["validation_accuracy"], -pair[2]["validation_loss"])
    )
    kept_run(folder, run_key(label, args.seeds[0]), base, args.seeds[0], train)
    return label, train, len(pairs)


def seeded(args, folder: Path, base: dict, label: str, train: dict, first: str) -> list[str]:
    """The keys of `first` (seed args.seeds[0]'s run) and of reruns of `train` with the other
    seeds."""
    keys = [first]
    for seed in args.seeds[1:]:
        keys.append(run_key(label, seed))
        kept_run(folder, keys[-1], base, seed, train)
    return keys


def recorded_runs(folder: Path, keys: list[str]) -> list[dict]:
    done = recorded(folder)
    return [done[key] for key in keys]


def paired_cell(folder: Path, keys: list[str], against: list[str]) -> str:
    """Accuracy of the runs `keys` minus that of the runs `against`, in points, with the
    paired-bootstrap 95% interval of `textclf compare` (test rows and seeds resampled)."""
    groups = [
        [(key, read_predictions(str(kept_path(folder, key)), key)) for key in side]
        for side in (against, keys)
    ]
    result = compare(*groups)
    points = [100 * result[f"accuracy_diff{end}"] for end in ("", "_low", "_high")]
    return "{:+.2f} [{:+.2f}, {:+.2f}]".format(*points)


def run_task(args, name: str, labels: list[int], size: int, rows: dict) -> dict:
    folder, base, baseline = prepare_task(args, name, labels, size, rows)
    grid_label, grid_train, pairs = grid_winner(args, folder, base)
    grid = seeded(args, folder, base, grid_label, grid_train, run_key(grid_label, args.seeds[0]))

    first_key = run_key(f"search ({args.trials} trials)", args.seeds[0])
    first = cached(  # kept, so that a rerun needs neither the study nor its project
        folder,
        first_key,
        lambda: search_winner(search_project(folder, base), args.trials, args.seeds[0]),
    )
    values = first["values"]
    project = folder / "search-project"
    applied = project / "metrics/transformer/test.json"
    if applied.exists() and json.loads(applied.read_text())["accuracy"] == first["accuracy"]:
        keep_predictions(project / PREDICTIONS, folder, first_key, first, None)
    else:  # the project is gone or moved on: the winner trains again in the scratch folder
        retrain = partial(train_once, folder, base, args.seeds[0], values)
        keep_predictions(folder / PREDICTIONS, folder, first_key, first, retrain)
    recipe = ", ".join(f"{key} {value:.3g}" for key, value in values.items())
    search = seeded(args, folder, base, f"search winner {recipe}", values, first_key)

    defaults = [run_key(f"min_steps {args.min_steps}", seed) for seed in args.seeds]
    for key, seed in zip(defaults, args.seeds, strict=True):
        kept_run(folder, key, base, seed, {"min_steps": args.min_steps})
    return {
        "task": name,
        "size": size,
        "baseline": baseline,
        "rows": [
            (
                f"default (min_steps {args.min_steps})",
                recorded_runs(folder, defaults),
                paired_cell(folder, defaults, search),
            ),
            (
                f"best of the {pairs}-pair grid: {grid_label.removeprefix('grid ')}",
                recorded_runs(folder, grid),
                paired_cell(folder, grid, search),
            ),
            (f"search ({args.trials} trials): {recipe}", recorded_runs(folder, search), ""),
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
        f"train.seed {', '.join(map(str, args.seeds))} (min-max) of the picked recipe; minus "
        "the search's pick: the difference in test accuracy (points; mean of the seeds) with "
        "its paired-bootstrap 95% interval over the test rows and the seeds, as `textclf "
        "compare` gives it for two groups of runs.",
        "",
        "| task | train rows | recipe | test accuracy | seeds | minus the search's pick | "
        "validation (first seed) | TF-IDF baseline |",
        "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for result in results:
        for label, runs, paired in result["rows"]:
            lines.append(
                f"| {result['task']} | {result['size']} | {label} | {accuracy_cells(runs)} | "
                f"{paired} | {runs[0]['validation_accuracy']:.4f} | {result['baseline']:.4f} |"
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
