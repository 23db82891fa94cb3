"""`textclf results` reads the run's metrics files: every paired line with its interval and
verdict, the agreement in words, calibration when it is clearly off; a corrupt, partial or older
file is one `error:` line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from textclf.results import main

SCORES = {
    "accuracy": 0.85,
    "accuracy_low": 0.83,
    "accuracy_high": 0.87,
    "f1_macro": 0.84,
    "f1_macro_low": 0.82,
    "f1_macro_high": 0.86,
}
DIFFERENCE = {"rows": 2000, "accuracy_diff": 0.0245, "accuracy_diff_low": 0.007}
DIFFERENCE |= {"accuracy_diff_high": 0.043, "mcnemar_p": 0.01}
VERSUS = {"accuracy_diff": 0.009, "accuracy_diff_low": -0.0075, "accuracy_diff_high": 0.024}
VERSUS |= {"mcnemar_p": 0.30, "rows": 2000}


def write(root: Path, name: str, content: object) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))


@pytest.fixture
def run_root(tmp_path) -> Path:
    write(tmp_path, "metrics/transformer/test.json", SCORES)
    write(tmp_path, "metrics/baseline/test.json", {**SCORES, "accuracy": 0.8255})
    write(tmp_path, "metrics/comparison.json", DIFFERENCE)
    write(tmp_path, "metrics/validation.json", {"eval_loss": 0.5, "eval_accuracy": 0.84})
    student = {**SCORES, "student": "static", "agreement": 0.852, "versus_teacher": VERSUS}
    write(tmp_path, "metrics/student/test.json", student)
    return tmp_path


def results(root: Path, capsys) -> list[str]:
    main(["--repo", str(root)])
    return capsys.readouterr().out.splitlines()


def test_every_paired_line_has_its_interval_and_verdict(run_root, capsys):
    lines = results(run_root, capsys)
    start = lines.index("Test results on 2,000 test rows (95% intervals):")
    assert lines[start + 1 :] == [
        "  transformer  accuracy 0.8500 [0.8300, 0.8700]   macro-F1 0.8400 [0.8200, 0.8600]",
        "  baseline     accuracy 0.8255 [0.8300, 0.8700]   macro-F1 0.8400 [0.8200, 0.8600]",
        "  student      accuracy 0.8500 [0.8300, 0.8700]   macro-F1 0.8400 [0.8200, 0.8600]",
        "  transformer - baseline: accuracy +0.0245 [+0.0070, +0.0430]: the transformer is "
        "better (5% level)",
        "  student - transformer: accuracy +0.0090 [-0.0075, +0.0240]: no significant "
        "difference (5% level)",
        "    (a static student; it predicts the same class as the transformer on 85.2% of the "
        "test rows)",
        "  validation (the kept epoch): loss 0.5000, accuracy 0.8400",
    ]


@pytest.mark.parametrize(
    ("confidences", "line"),
    [
        ([0.40, 0.50], "the transformer is under-confident (mean confidence 0.45, accuracy 0.85)"),
        ([0.99, 0.99], "the transformer is over-confident (mean confidence 0.99, accuracy 0.85)"),
        ([0.84, 0.86], None),
    ],
)
def test_a_calibration_line_when_confidence_is_clearly_off(run_root, capsys, confidences, line):
    rows = "\n".join(f"0.{i}-0.{i + 1},{c},0.85,100" for i, c in enumerate(confidences))
    write(
        run_root, "metrics/transformer/calibration.csv", f"bin,confidence,accuracy,rows\n{rows}\n"
    )
    shown = [text for text in results(run_root, capsys) if text.startswith("  calibration:")]
    if line is None:
        assert shown == []
    else:
        assert shown == [f"  calibration: {line}: metrics/transformer/reliability.png"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("metrics/comparison.json", "{", "metrics/comparison.json: not readable as JSON"),
        ("metrics/comparison.json", "[1, 2]", "metrics/comparison.json: holds a list, not a"),
        (
            "metrics/comparison.json",
            {"rows": 2000, "accuracy_diff": 0.1},
            "metrics/comparison.json: no number under accuracy_diff_low, accuracy_diff_high",
        ),
        (
            "metrics/transformer/test.json",
            {"accuracy": "0.8"},
            "metrics/transformer/test.json: no number under accuracy, accuracy_low",
        ),
        (
            "metrics/student/test.json",
            {**SCORES, "agreement": 0.9, "student": "static"},
            "metrics/student/test.json: no versus_teacher difference (an older run's file)",
        ),
        ("metrics/validation.json", b"\xff\xfe".decode("latin-1"), "validation.json: not"),
    ],
)
def test_a_corrupt_partial_or_older_file_is_one_line(run_root, name, content, message):
    write(run_root, name, content)
    with pytest.raises(SystemExit) as exit_info:
        main(["--repo", str(run_root)])
    error = str(exit_info.value.code)
    assert error.startswith("error: ") and message in error and "\n" not in error, error
    assert error.endswith("rerun `dvc repro` (or `dvc pull` the run) to rewrite it")
