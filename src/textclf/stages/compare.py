"""Stage compare: both models' predictions on the test rows -> metrics/comparison.json.

Transformer minus baseline (B - A): accuracy and macro-F1 differences with paired-bootstrap
95% bounds, McNemar's exact p-value and the rows only one model gets right."""

from __future__ import annotations

from textclf.config.files import write_json
from textclf.config.paths import BASELINE_DIR, COMPARISON, TRANSFORMER_DIR
from textclf.evaluate.comparison import compare, read_predictions, render
from textclf.stages import run

NAMES = {"a": "baseline", "b": "transformer"}
# keys that say which model, so `dvc metrics show` reads without a legend
RENAMED = {
    "a_accuracy": "baseline_accuracy",
    "b_accuracy": "transformer_accuracy",
    "only_a_right": "only_baseline_right",
    "only_b_right": "only_transformer_right",
}


def main() -> None:
    baseline = read_predictions(BASELINE_DIR / "predictions.csv", NAMES["a"])
    transformer = read_predictions(TRANSFORMER_DIR / "predictions.csv", NAMES["b"])
    result = compare([(NAMES["a"], baseline)], [(NAMES["b"], transformer)])
    write_json(COMPARISON, {RENAMED.get(key, key): value for key, value in result.items()})
    print(render(result, NAMES["a"], NAMES["b"]))


if __name__ == "__main__":
    run(main)
