"""Stage evaluate: models/trained + the test split -> metrics/transformer/ (test.json with
accuracy, loss, F1, their bootstrap bounds and calibration; report.txt, per_class.csv,
predictions.csv, mistakes.csv, calibration.csv, confusion_matrix.png, reliability.png; see
textclf.evaluate.metrics for what a multi-label model gets instead)."""

from __future__ import annotations

from dataclasses import dataclass

from textclf.config.paths import TRAINED_DIR, TRANSFORMER_DIR
from textclf.config.report_params import EvaluateParams
from textclf.config.sections import load_sections
from textclf.data.checkpoint_settings import checkpoint_settings_of
from textclf.data.schema import read_schema
from textclf.evaluate.metrics import write_test_results
from textclf.evaluate.scoring import score_split
from textclf.modeling.compiled import compile_wanted
from textclf.modeling.loading import load_classifier
from textclf.stages import run


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    evaluate: EvaluateParams


def main() -> None:
    params = load_sections(Sections)
    model, tokenizer = load_classifier(TRAINED_DIR)
    evaluate = params.evaluate
    compiled = compile_wanted(evaluate.compile, model.device)
    test, probabilities = score_split(
        model, tokenizer, "test", evaluate.precision, evaluate.batch_size, compiled=compiled
    )
    schema = read_schema()
    write_test_results(
        TRANSFORMER_DIR,
        test["text"],
        test["label"].tolist(),
        probabilities,
        schema.classes,
        evaluate.mistakes_per_class,
        multi_label=schema.multi_label,
        threshold=checkpoint_settings_of(model.config).decision_threshold,
        separator=schema.label_separator,
    )


if __name__ == "__main__":
    run(main)
