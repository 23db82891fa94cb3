"""Stage quality: data/prepared -> metrics/quality.json and metrics/quality/, what may be
wrong with the data itself.

- Likely label errors: out-of-fold probabilities for every train row (`quality.folds`-fold
  cross-validation of `quality.model`), then confident learning (cleanlab):
  label_issues.csv, one row per suspect, most suspect first, with the label the model suggests
  and the row's line in the raw file; label_issues.png, given against suggested labels.
- Duplicates and leakage: exact and conflicting (same text, different labels) duplicates in
  train, validation and test rows that nearly repeat a train row: duplicates.csv.
- quality.json: the estimated share of wrong labels, the counts, text-length extremes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from textclf.config.data_params import DataParams
from textclf.config.files import atomic_path, redact, write_json
from textclf.config.paths import OUT_OF_FOLD, PREPARED_DIR, QUALITY_DIR, QUALITY_REPORT, SPLITS
from textclf.config.quality_params import QualityParams
from textclf.config.report_params import BaselineParams
from textclf.config.sections import load_sections
from textclf.config.spreadsheet import for_people
from textclf.config.train_params import TrainParams
from textclf.data.formats import DataError, detect_format
from textclf.data.schema import read_schema
from textclf.evaluate.plots import save_confusion_matrix
from textclf.quality.label_issues import find_issues
from textclf.quality.out_of_fold import baseline_fold_model, fold_of_rows, out_of_fold
from textclf.quality.report import (
    duplicate_table,
    issue_pairs,
    label_issue_table,
    label_names,
    length_counts,
)
from textclf.quality.sample import checked_rows
from textclf.stages import run


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    quality: QualityParams
    baseline: BaselineParams  # quality.model baseline: the baseline stage's model
    train: TrainParams  # class_weights and threshold, as the models'
    data: DataParams  # where each row came from


def main() -> None:
    params = load_sections(Sections)
    quality, schema = params.quality, read_schema()
    classes, multi_label = schema.classes, schema.multi_label
    separator = schema.label_separator
    checked = {
        split: checked_rows(PREPARED_DIR / f"{split}.parquet", quality.max_rows, quality.seed)
        for split in SPLITS
    }
    splits = {split: rows.frame for split, rows in checked.items()}
    train, labels = splits["train"], splits["train"]["label"].tolist()
    if quality.model == "transformer":
        probabilities = pd.read_parquet(OUT_OF_FOLD).to_numpy()  # the quality_folds stage's
        if len(probabilities) != checked["train"].total:
            raise DataError(f"{OUT_OF_FOLD} does not match the train split: run `dvc repro`")
        probabilities = checked["train"].of(probabilities)
    else:
        folds = fold_of_rows(labels, quality.folds, quality.seed, classes, multi_label)
        print(f"Out-of-fold probabilities: {quality.folds} folds of the baseline", flush=True)
        fold_model = baseline_fold_model(
            train["text"],
            labels,
            len(classes),
            params.baseline,
            params.train.class_weights,
            multi_label,
        )
        probabilities = out_of_fold(folds, len(classes), fold_model)
    issues = find_issues(labels, probabilities, multi_label, params.train.threshold)
    where = source_locator(params.data)
    table = label_issue_table(train, issues, classes, where, separator)
    duplicates, duplicate_counts = duplicate_table(
        splits,
        quality.near_duplicate_similarity,
        where,
        lambda label: label_names(label, classes, separator),
    )
    with atomic_path(QUALITY_DIR, directory=True) as folder:
        for_people(table).to_csv(folder / "label_issues.csv", index=False)
        for_people(duplicates).to_csv(folder / "duplicates.csv", index=False)
        if not multi_label:
            given = [int(labels[i]) for i in issues.flagged]
            suggested = [int(issues.suggested[i]) for i in issues.flagged]
            save_confusion_matrix(
                given,
                suggested,
                classes,
                folder / "label_issues.png",
                title=f"Likely label errors ({len(given)} of {len(labels)} train rows)",
                axis_names=("Given label", "Suggested label"),
            )
    report = {
        "model": quality.model,
        "folds": quality.folds,
        "train_rows": checked["train"].total,
        # above quality.max_rows a split is checked on a seeded sample of that many rows
        "rows_checked": {split: len(rows.frame) for split, rows in checked.items()},
        "rows": {split: rows.total for split, rows in checked.items()},
        "label_error_rate": round(issues.error_rate, 4),
        "estimated_label_errors": issues.estimated_errors,
        "label_issues": len(table),
        "out_of_fold_accuracy": out_of_fold_accuracy(
            labels, probabilities, multi_label, params.train.threshold
        ),
        "label_issues_by_pair": issue_pairs(table),
        "duplicates": duplicate_counts,
        "texts": {
            split: length_counts(frame["text"].tolist(), quality.short_words, quality.long_words)
            for split, frame in splits.items()
        },
    }
    write_json(QUALITY_REPORT, report)
    print(
        f"Label issues: {len(table)} of {len(train)} train rows flagged, estimated error rate "
        f"{issues.error_rate:.1%}; near-duplicates of train rows: validation "
        f"{duplicate_counts['validation_near_train']}, test {duplicate_counts['test_near_train']}"
    )


def out_of_fold_accuracy(
    labels: list, probabilities: np.ndarray, multi_label: bool, threshold: float
) -> float:
    """How often the out-of-fold model agrees with the given label (multi-label: label set)."""
    if multi_label:
        chosen = [set(np.flatnonzero(row >= threshold).tolist()) for row in probabilities]
        agree = [chosen_set == set(given) for chosen_set, given in zip(chosen, labels, strict=True)]
    else:
        agree = probabilities.argmax(axis=1) == np.asarray(labels)
    return round(float(np.mean(agree)), 4)


def source_locator(data: DataParams):
    """`where(split, position)`: the raw file as the user named it (a data.*_url value) and the
    row's line in it, or its row for a Parquet file."""
    names = {
        "train": data.train_url,
        "validation": data.validation_url or data.train_url,  # held out of the train file
        "test": data.test_url,
    }

    def where(split: str, position: int) -> str:
        name = names[split]
        if detect_format(name, data.format) == "parquet":
            return f"{redact(name)}: row {position}"
        return f"{redact(name)}:{position}"

    return where


if __name__ == "__main__":
    run(main)
