"""The last run's results, in words: what `make repro` and `make quick` print when they end.

    textclf results
    python -m textclf.results ...        (the same)

Reads the workspace's metrics files (nothing is recomputed): where the files are and what to
run next, then, on the last lines, the transformer's test accuracy and macro F1 with their 95%
intervals, the baseline and the distilled student beside it, the paired comparison's verdict
and the kept epoch's validation metrics. Exits 1 with one `error:` line when the pipeline has
not run here yet.
"""

from __future__ import annotations

from pathlib import Path

from textclf.config.arguments import OneLineParser, description
from textclf.config.errors import UserError
from textclf.config.files import read_json
from textclf.config.paths import (
    BASELINE_DIR,
    COMPARISON,
    MODEL_DIR,
    QUALITY_DIR,
    STUDENT_DIR,
    STUDENT_METRICS_DIR,
    TRANSFORMER_DIR,
    VALIDATION_METRICS,
)
from textclf.evaluate.comparison import verdict

FOLDERS = {
    str(MODEL_DIR): "the model to ship: checkpoint, onnx/, model card (README.md)",
    str(TRANSFORMER_DIR): "test.json, report.txt, per_class.csv, mistakes.csv, plots",
    str(QUALITY_DIR): "likely label errors and duplicates in your data",
}
STUDENT_FOLDER = "the distilled student, for CPUs (docs/serving-cheaply.md)"
SERVE_STUDENT = f"  textclf serve --model {STUDENT_DIR}  # the same on CPUs, for less"
VERDICTS = {
    "B better": "the transformer is better",
    "A better": "the baseline is better",
    "no significant difference": "no significant difference",
}


def interval(metrics: dict, key: str) -> str:
    """`0.8445 [0.8290, 0.8610]`: a test.json value with its 95% bootstrap bounds."""
    return f"{metrics[key]:.4f} [{metrics[f'{key}_low']:.4f}, {metrics[f'{key}_high']:.4f}]"


def model_line(name: str, metrics: dict) -> str:
    return (
        f"  {name:<12} accuracy {interval(metrics, 'accuracy')}   "
        f"macro-F1 {interval(metrics, 'f1_macro')}"
    )


def read_student(root: Path) -> dict | None:
    """The student's test.json, or None where the distill stage made no student."""
    path = root / STUDENT_METRICS_DIR / "test.json"
    metrics = read_json(path) if path.is_file() else {}
    return metrics if "accuracy" in metrics else None


def student_note(student: dict) -> str:
    return (
        f"               ({student['student']}: {student['versus_teacher']['accuracy_diff']:+.4f} "
        f"against the transformer, the same class on {student['agreement']:.1%} of the rows)"
    )


def headline(root: Path = Path(".")) -> str:
    """The test results of the run in `root`'s workspace. UserError if a file is missing."""
    files = {
        "transformer": root / TRANSFORMER_DIR / "test.json",
        "baseline": root / BASELINE_DIR / "test.json",
        "comparison": root / COMPARISON,
        "validation": root / VALIDATION_METRICS,
    }
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise UserError(
            f"no results here yet ({', '.join(missing)} missing): run `make quick` or "
            "`dvc repro`, or `dvc pull` a colleague's run"
        )
    read = {name: read_json(path) for name, path in files.items()}
    comparison = read["comparison"]
    difference = (
        f"  transformer - baseline: accuracy {comparison['accuracy_diff']:+.4f} "
        f"[{comparison['accuracy_diff_low']:+.4f}, {comparison['accuracy_diff_high']:+.4f}]"
        f": {VERDICTS[verdict(comparison)]} (5% level)"
    )
    validation = ", ".join(
        f"{key.removeprefix('eval_')} {value:.4f}" for key, value in read["validation"].items()
    )
    student = read_student(root)
    lines = [
        f"Test results on {comparison['rows']:,} test rows (95% intervals):",
        model_line("transformer", read["transformer"]),
        model_line("baseline", read["baseline"]),
        *([model_line("student", student), student_note(student)] if student else []),
        difference,
        f"  validation (the kept epoch): {validation}",
    ]
    return "\n".join(lines)


def guide(root: Path = Path(".")) -> str:
    """Where the run in `root`'s workspace put its files, and the commands to run next."""
    student = read_student(root) is not None
    folders = {**FOLDERS, str(STUDENT_DIR): STUDENT_FOLDER} if student else FOLDERS
    lines = [
        "Files:",
        *(f"  {folder + '/':<22} {what}" for folder, what in folders.items()),
        "",
        "Next:",
        f'  textclf predict --model {MODEL_DIR} "Stocks rally as oil prices fall"',
        f"  textclf serve --model {MODEL_DIR}    # HTTP service and demo page",
        *([SERVE_STUDENT] if student else []),
        "  dvc metrics show                      # these numbers, as a table",
        "  dvc plots show                        # dvc_plots/index.html; offline: make plots",
    ]
    return "\n".join(lines)


def summary(root: Path = Path(".")) -> str:
    """The guide, then the test results: last, on the lines a terminal shows when a run ends.
    UserError if a results file is missing."""
    results = headline(root)
    return f"{guide(root)}\n\n{results}"


def main(argv: list[str] | None = None, prog: str = "textclf results") -> None:
    parser = OneLineParser(prog=prog, description=description(__doc__))
    parser.add_argument("--repo", default=".", help="the project's root (default: here)")
    args = parser.parse_args(argv)
    try:
        print(summary(Path(args.repo)))
    except UserError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
