"""The last run's results, in words: what `make repro` and `make quick` print when they end.

    textclf results
    python -m textclf.results ...        (the same)

Reads the workspace's metrics files (nothing is recomputed): where the files are and what to
run next, then, on the last lines, the transformer's test accuracy and macro F1 with their 95%
intervals, the baseline and the distilled student beside it, each paired comparison with its
interval and verdict, a calibration line when the model's confidence is clearly off its
accuracy, and the kept epoch's validation metrics. Exits 1 with one `error:` line when the
pipeline has not run here yet, or a results file is corrupt, partial or from an older run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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


TEST_KEYS = (
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "f1_macro",
    "f1_macro_low",
    "f1_macro_high",
)
DIFFERENCE_KEYS = ("accuracy_diff", "accuracy_diff_low", "accuracy_diff_high")
# a calibration line when the mean confidence is this far from the accuracy (5 points)
CALIBRATION_GAP = 0.05
REDO = "rerun `dvc repro` (or `dvc pull` the run) to rewrite it"


def read_metrics(path: Path, keys: tuple[str, ...] = ()) -> dict:
    """A metrics JSON object holding a number under each of `keys`; UserError, naming the file
    and what is wrong with it, for a corrupt, partial or older run's file."""
    try:
        metrics = read_json(path)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{path}: not readable as JSON ({type(error).__name__}): {REDO}") from None
    if not isinstance(metrics, dict):
        raise UserError(f"{path}: holds a {type(metrics).__name__}, not a JSON object: {REDO}")
    return require_numbers(path, metrics, keys)


def require_numbers(path: Path, metrics: dict, keys: tuple[str, ...]) -> dict:
    """`metrics` (read from `path`) if it holds a number under each of `keys`; UserError
    naming the missing ones otherwise."""
    missing = [key for key in keys if not is_number(metrics.get(key))]
    if missing:
        raise UserError(
            f"{path}: no number under {', '.join(missing)} (a partial or older run's file): {REDO}"
        )
    return metrics


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def interval(metrics: dict, key: str) -> str:
    """`0.8445 [0.8290, 0.8610]`: a test.json value with its 95% bootstrap bounds."""
    return f"{metrics[key]:.4f} [{metrics[f'{key}_low']:.4f}, {metrics[f'{key}_high']:.4f}]"


def model_line(name: str, metrics: dict) -> str:
    return (
        f"  {name:<12} accuracy {interval(metrics, 'accuracy')}   "
        f"macro-F1 {interval(metrics, 'f1_macro')}"
    )


def difference_line(label: str, difference: dict, better: dict[str, str]) -> str:
    """`  B - A: accuracy +0.0245 [+0.0070, +0.0430]: the transformer is better (5% level)`."""
    return (
        f"  {label}: accuracy {difference['accuracy_diff']:+.4f} "
        f"[{difference['accuracy_diff_low']:+.4f}, {difference['accuracy_diff_high']:+.4f}]"
        f": {better[verdict(difference)]} (5% level)"
    )


def read_student(root: Path) -> dict | None:
    """The student's test.json, or None where the distill stage made no student."""
    path = root / STUDENT_METRICS_DIR / "test.json"
    student = read_metrics(path) if path.is_file() else {}
    if "accuracy" not in student:  # distill.student none: a marker, no scores
        return None
    require_numbers(path, student, (*TEST_KEYS, "agreement"))
    versus = student.get("versus_teacher")
    if not isinstance(versus, dict) or not all(is_number(versus.get(k)) for k in DIFFERENCE_KEYS):
        raise UserError(f"{path}: no versus_teacher difference (an older run's file): {REDO}")
    return student


def student_lines(student: dict) -> list[str]:
    """The student against its teacher, with the interval and verdict of every paired line."""
    better = {
        "B better": "the student is better",
        "A better": "the transformer is better",
        "no significant difference": "no significant difference",
    }
    return [
        difference_line("student - transformer", student["versus_teacher"], better),
        f"    (a {student.get('student', 'distilled')} student; it predicts the same class as the "
        f"transformer on {student['agreement']:.1%} of the test rows)",
    ]


def calibration_line(root: Path, test: dict) -> list[str]:
    """One line when the transformer's confidence is clearly off its accuracy, from the
    reliability table the evaluate stage wrote; none when it is close or the table is absent."""
    path = root / TRANSFORMER_DIR / "calibration.csv"
    try:
        table = pd.read_csv(path)
        confidence = float((table["confidence"] * table["rows"]).sum() / table["rows"].sum())
    except (OSError, ValueError, KeyError, ZeroDivisionError):
        return []
    gap = confidence - test["accuracy"]
    if abs(gap) < CALIBRATION_GAP:
        return []
    kind = "over-confident" if gap > 0 else "under-confident"
    return [
        f"  calibration: the transformer is {kind} (mean confidence {confidence:.2f}, accuracy "
        f"{test['accuracy']:.2f}): {TRANSFORMER_DIR}/reliability.png"
    ]


def headline(root: Path = Path(".")) -> str:
    """The test results of the run in `root`'s workspace. UserError if a file is missing or is
    not a whole, current results file."""
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
    transformer = read_metrics(files["transformer"], TEST_KEYS)
    baseline = read_metrics(files["baseline"], TEST_KEYS)
    comparison = read_metrics(files["comparison"], ("rows", *DIFFERENCE_KEYS))
    validation = read_metrics(files["validation"])
    shown = ", ".join(
        f"{key.removeprefix('eval_')} {value:.4f}"
        for key, value in validation.items()
        if is_number(value)
    )
    student = read_student(root)
    lines = [
        f"Test results on {comparison['rows']:,} test rows (95% intervals):",
        model_line("transformer", transformer),
        model_line("baseline", baseline),
        *([model_line("student", student)] if student else []),
        difference_line("transformer - baseline", comparison, VERDICTS),
        *(student_lines(student) if student else []),
        *calibration_line(root, transformer),
        f"  validation (the kept epoch): {shown}",
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
