"""The quality stage's tables: likely label errors (most suspect first), duplicates and
train leakage, and text-length counts, each row pointing at where it is in its raw file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from textclf.quality.duplicates import groups_of_equal, near_duplicates, normalise, word_count
from textclf.quality.label_issues import LabelIssues

Where = Callable[[str, int], str]  # (split, position in its raw file) -> "train.csv:12"


def label_names(label, classes: Sequence[str], separator: str) -> str:
    if isinstance(label, (list, tuple, np.ndarray)):
        return separator.join(classes[int(i)] for i in label)
    return classes[int(label)]


def label_issue_table(
    train: pd.DataFrame, issues: LabelIssues, classes: Sequence[str], where: Where, separator: str
) -> pd.DataFrame:
    """One row per flagged train row, most suspect first: text, given label, suggested label,
    label quality score and its source line."""
    rows = issues.flagged
    return pd.DataFrame(
        {
            "text": train["text"].to_numpy()[rows],
            "label": [label_names(train["label"].iat[i], classes, separator) for i in rows],
            "suggested": [label_names(issues.suggested[i], classes, separator) for i in rows],
            "score": np.round(issues.scores[rows], 4),
            "source": [where("train", int(train["position"].iat[i])) for i in rows],
        }
    )


def issue_pairs(table: pd.DataFrame) -> dict[str, int]:
    """Flagged rows per `given -> suggested` pair, most frequent first."""
    pairs = Counter(
        f"{given} -> {suggested}"
        for given, suggested in zip(table["label"], table["suggested"], strict=True)
    )
    return dict(sorted(pairs.items(), key=lambda item: (-item[1], item[0])))


def duplicate_table(
    splits: dict[str, pd.DataFrame],
    similarity: float,
    where: Where,
    describe: Callable[[object], str],
) -> tuple[pd.DataFrame, dict]:
    """Exact and conflicting duplicates inside train, and rows of validation and test that
    nearly repeat a train row; with their counts."""
    train, records = splits["train"], []

    def record(kind: str, split: str, row: int, train_row: int, score: float) -> None:
        frame = splits[split]
        records.append(
            {
                "kind": kind,
                "split": split,
                "text": frame["text"].iat[row],
                "label": describe(frame["label"].iat[row]),
                "source": where(split, int(frame["position"].iat[row])),
                "train_text": train["text"].iat[train_row],
                "train_label": describe(train["label"].iat[train_row]),
                "train_source": where("train", int(train["position"].iat[train_row])),
                "similarity": score,
            }
        )

    labels = [describe(label) for label in train["label"]]
    conflicting_groups = conflicting_rows = exact_rows = 0
    for group in groups_of_equal([normalise(text) for text in train["text"]]):
        conflict = len({labels[row] for row in group}) > 1
        conflicting_groups += conflict
        conflicting_rows += len(group) if conflict else 0
        for row in group[1:]:
            exact = train["text"].iat[row] == train["text"].iat[group[0]]
            exact_rows += exact
            if conflict or exact:
                record("conflicting" if conflict else "duplicate", "train", row, group[0], 1.0)
    counts = {
        "train_duplicate_rows": exact_rows,
        "train_conflicting_groups": conflicting_groups,
        "train_conflicting_rows": conflicting_rows,
    }
    for split in ("validation", "test"):
        found = near_duplicates(train["text"].tolist(), splits[split]["text"].tolist(), similarity)
        for near in found:
            record("near_duplicate", split, near.row, near.train_row, near.similarity)
        counts[f"{split}_near_train"] = len(found)
    return pd.DataFrame.from_records(records, columns=RECORD_COLUMNS), counts


RECORD_COLUMNS = [
    "kind",
    "split",
    "text",
    "label",
    "source",
    "train_text",
    "train_label",
    "train_source",
    "similarity",
]


def length_counts(texts: Sequence[str], short_words: int, long_words: int) -> dict:
    """Texts with nothing but punctuation, very short and very long ones, and the spread of
    lengths in words."""
    words = np.asarray([word_count(text) for text in texts])
    return {
        "no_words": int((words == 0).sum()),
        f"under_{short_words}_words": int((words < short_words).sum()),
        f"over_{long_words}_words": int((words > long_words).sum()),
        "words": {
            # an empty split has no lengths: every statistic is 0 rather than undefined
            "min": int(words.min()) if len(words) else 0,
            "median": round(float(np.median(words)), 1) if len(words) else 0.0,
            "p99": round(float(np.percentile(words, 99)), 1) if len(words) else 0.0,
            "max": int(words.max()) if len(words) else 0,
        },
    }
