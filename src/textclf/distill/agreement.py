"""The student beside its teacher on the same test rows: the paired difference (student minus
teacher, the statistics of `textclf compare`) and the share of rows they predict alike."""

from __future__ import annotations

from pathlib import Path

from textclf.config.files import read_json, write_json
from textclf.evaluate.comparison import compare, read_predictions


def with_teacher_comparison(results: Path, teacher_predictions: Path) -> dict:
    """The student's test.json under `results`, rewritten with `versus_teacher` and
    `agreement`; returned."""
    teacher = read_predictions(teacher_predictions, "teacher")
    student = read_predictions(results / "predictions.csv", "student")
    difference = compare([("teacher", teacher)], [("student", student)])
    agreement = float((teacher["predicted"] == student["predicted"]).mean())
    test = read_json(results / "test.json")
    test.update(agreement=round(agreement, 6), versus_teacher=difference)
    write_json(results / "test.json", test)
    return test
