"""Is model B really better than model A? Both models' per-row predictions on the same test
rows (each model's `predictions.csv`), compared pairwise: the difference in accuracy and macro
F1 with a paired-bootstrap 95% interval, and McNemar's exact test.

A side may be a group of runs (e.g. one per seed): then it is scored by its mean, and the
interval also covers the spread between runs (see `statistics.paired_difference`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

import numpy as np
import pandas as pd

from textclf.config.errors import UserError
from textclf.evaluate.statistics import mcnemar, paired_difference

SIGNIFICANCE = 0.05
REQUIRED = ("text", "label", "predicted")


class IncomparableError(UserError):
    """Two prediction sets that cannot be compared: other test rows or other classes."""


Run = tuple[str, pd.DataFrame]  # (how the user named it, its predictions.csv)


def read_predictions(source: str | IO, name: str) -> pd.DataFrame:
    """A model's predictions.csv: text, label, predicted and one p_<class> column per class."""
    try:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise UserError(f"{name}: predictions.csv cannot be read ({reason})") from None
    missing = [column for column in REQUIRED if column not in frame.columns]
    if missing or not classes_of(frame):
        absent = ", ".join(missing) or "p_<class>"
        raise UserError(f"{name}: predictions.csv has no column {absent}")
    return frame


def classes_of(frame: pd.DataFrame) -> list[str]:
    return [column[2:] for column in frame.columns if column.startswith("p_")]


def check_comparable(runs: Sequence[Run]) -> None:
    """IncomparableError unless every run has the first run's classes and test rows."""
    first_name, first = runs[0]
    for name, frame in runs[1:]:
        pair = f"cannot compare {first_name} and {name}:"
        if classes_of(frame) != classes_of(first):
            raise IncomparableError(
                f"{pair} different classes ({', '.join(classes_of(first))} vs "
                f"{', '.join(classes_of(frame))})"
            )
        if len(frame) != len(first):
            raise IncomparableError(f"{pair} different test rows ({len(first)} vs {len(frame)})")
        for column in ("text", "label"):
            differs = np.flatnonzero(frame[column].to_numpy() != first[column].to_numpy())
            if len(differs):
                raise IncomparableError(
                    f"{pair} different test rows (test row {differs[0] + 1} has another {column})"
                )


def is_label_sets(values: set[str], classes: Sequence[str]) -> bool:
    """Whether label/predicted `values` are multi-label sets: each one empty, a class, or
    classes joined by one separator character that no class name contains."""
    joined = {value for value in values if value not in classes}
    if not joined:
        return False
    in_names = set("".join(classes))
    for separator in {c for value in joined for c in value} - in_names:
        if all(not v or set(v.split(separator)) <= set(classes) for v in joined):
            return True
    return joined == {""}


def known_values(first: pd.DataFrame, frames: Sequence[pd.DataFrame]) -> set[str]:
    """The values a label or prediction may take: the classes, or, for multi-label runs, the
    label sets (each set is one category when whole rows are compared)."""
    classes = classes_of(first)
    values = {v for frame in frames for column in ("label", "predicted") for v in frame[column]}
    return values if is_label_sets(values, classes) else set(classes)


def class_ids(
    labels: Sequence[str], predicted: Sequence[Sequence[str]], classes: Sequence[str]
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Labels and each run's predictions as ids of one category list: the classes, then, for
    multi-label sets, every set seen (a row is right when its whole set is); and how many
    categories there are."""
    values = set(labels).union(*map(set, predicted))
    names = list(classes)
    if is_label_sets(values, classes):
        names += sorted(values - set(classes))
    ids = {name: index for index, name in enumerate(names)}
    as_ids = [np.array([ids[v] for v in run], dtype=np.int64) for run in predicted]
    return np.array([ids[v] for v in labels], dtype=np.int64), as_ids, len(names)


def compare(group_a: Sequence[Run], group_b: Sequence[Run]) -> dict[str, float]:
    """B minus A: accuracy and macro F1 of each side (means over a group), their differences
    with 95% bounds, and for one run per side McNemar's p-value and the rows only one of them
    gets right."""
    runs = [*group_a, *group_b]
    check_comparable(runs)
    first = runs[0][1]
    known = known_values(first, [frame for _, frame in runs])
    for name, frame in runs:
        for column in ("label", "predicted"):
            unknown = sorted(set(frame[column]) - known)
            if unknown:
                raise UserError(
                    f"{name}: predictions.csv column {column} has {unknown[0]!r}, not one of its "
                    f"classes"
                )
    labels, predicted, classes = class_ids(
        first["label"].tolist(),
        [frame["predicted"].tolist() for _, frame in runs],
        classes_of(first),
    )
    side_a, side_b = predicted[: len(group_a)], predicted[len(group_a) :]
    result = {"rows": len(labels)}
    for prefix, side in (("a", side_a), ("b", side_b)):
        result[f"{prefix}_accuracy"] = round(float(np.mean([p == labels for p in side])), 6)
    result.update(paired_difference(labels, side_a, side_b, classes))
    if len(side_a) == len(side_b) == 1:
        result.update(mcnemar(side_a[0] == labels, side_b[0] == labels))
    return result


def verdict(result: dict[str, float]) -> str:
    """ "B better", "A better" or "no significant difference" at the 5% level: McNemar's test
    for one run per side, else whether the accuracy difference's 95% interval excludes 0."""
    if "mcnemar_p" in result:
        significant = result["mcnemar_p"] < SIGNIFICANCE
    else:
        significant = result["accuracy_diff_low"] > 0 or result["accuracy_diff_high"] < 0
    if not significant or result["accuracy_diff"] == 0:
        return "no significant difference"
    return "B better" if result["accuracy_diff"] > 0 else "A better"


def render(result: dict[str, float], name_a: str, name_b: str) -> str:
    """The comparison as a short table and a verdict line, for people."""
    lines = [
        f"A: {name_a}",
        f"B: {name_b}",
        f"{result['rows']} test rows",
        "",
        f"{'metric':<10} {'B - A':>8}   95% interval",
    ]
    for key, label in (("accuracy", "accuracy"), ("f1_macro", "macro F1")):
        low, high = result[f"{key}_diff_low"], result[f"{key}_diff_high"]
        lines.append(f"{label:<10} {result[f'{key}_diff']:+8.4f}   [{low:+.4f}, {high:+.4f}]")
    lines.append(f"accuracy: A {result['a_accuracy']:.4f}, B {result['b_accuracy']:.4f}")
    if "mcnemar_p" in result:
        lines.append(
            f"McNemar exact p = {result['mcnemar_p']:.4g} (rows only A gets right: "
            f"{result['only_a_right']}, only B: {result['only_b_right']})"
        )
    lines += ["", f"verdict (5% level): {verdict(result)}"]
    return "\n".join(lines)
