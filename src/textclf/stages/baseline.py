"""Stage baseline: TF-IDF (word n-grams) and/or averaged GloVe vectors + logistic regression on
data/prepared, scored on the test split with the same files and keys as evaluate
(metrics/baseline/), so `dvc metrics show` lists both models side by side."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from textclf.config.data_params import PrepareParams
from textclf.config.paths import BASELINE_DIR, PREPARED_DIR
from textclf.config.report_params import BaselineParams, EvaluateParams
from textclf.config.sections import load_sections
from textclf.config.train_params import TrainParams
from textclf.data.schema import read_schema
from textclf.data.tables import read_prepared
from textclf.evaluate.metrics import write_test_results
from textclf.stages import run
from textclf.train.baseline_model import build_model, fit_and_predict


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    baseline: BaselineParams
    prepare: PrepareParams
    evaluate: EvaluateParams
    train: TrainParams  # class_weights and threshold, as the transformer's


def main() -> None:
    params = load_sections(Sections)
    schema = read_schema()
    classes, multi_label = schema.classes, schema.multi_label
    train, available = read_prepared(
        PREPARED_DIR / "train.parquet", params.baseline.max_train_rows, params.prepare.seed
    )
    test = pd.read_parquet(PREPARED_DIR / "test.parquet")
    model = build_model(params.baseline, params.train.class_weights, multi_label)
    print(
        f"Baseline: {' + '.join(params.baseline.features)} + logistic regression on "
        f"{len(train)} train rows, scored on {len(test)} test rows",
        flush=True,
    )
    # a class absent from a capped train split gets probability 0
    probabilities = fit_and_predict(
        model, train["text"], train["label"].tolist(), test["text"], len(classes), multi_label
    )
    write_test_results(
        BASELINE_DIR,
        test["text"],
        test["label"].tolist(),
        probabilities,
        classes,
        params.evaluate.mistakes_per_class,
        multi_label=multi_label,
        threshold=params.train.threshold,
        separator=schema.label_separator,
        notes={"train_rows": len(train), "train_rows_available": available},
    )


if __name__ == "__main__":
    run(main)
