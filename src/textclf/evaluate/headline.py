"""The few numbers a person compares runs on: each model's test accuracy with its 95%
interval and macro F1 (and, from the train stage, validation.json: the kept epoch's validation
metrics, what a person picks a run on). They go to `headline.json` beside the detailed test.json,
and only these files are dvc.yaml's `metrics:`, so `dvc metrics show` and `dvc exp show` fit a
terminal; the rest stays in test.json, per_class.csv and calibration.csv (`dvc metrics show
metrics/transformer/test.json` prints it)."""

from __future__ import annotations

HEADLINE_FILE = "headline.json"
# the same keys for single- and multi-label models (subset accuracy for multi-label)
HEADLINE_KEYS = ("accuracy", "accuracy_low", "accuracy_high", "f1_macro")


def headline(metrics: dict) -> dict:
    """The headline keys of a test.json, in their fixed order."""
    return {key: metrics[key] for key in HEADLINE_KEYS}
