"""Where the metrics files live, as dvc.yaml declares them: a stage that writes one imports
its path from here without importing (and depending on) how the metrics are computed."""

from __future__ import annotations

from pathlib import Path

METRICS_DIR = Path("metrics")
DATA_REPORT = METRICS_DIR / "data.json"
TRAIN_METRICS = METRICS_DIR / "train.json"
# train.json's validation metrics of the kept epoch, alone: one of dvc.yaml's headline metrics
VALIDATION_METRICS = METRICS_DIR / "validation.json"
TRAINING_CURVES = METRICS_DIR / "training_curves.png"
# the kept model on the validation split, row by row: what `textclf search` compares trials on
VALIDATION_PREDICTIONS = METRICS_DIR / "validation_predictions.csv"
# One folder of test results per model, with the same files in each (see write_test_results).
TRANSFORMER_DIR = METRICS_DIR / "transformer"
BASELINE_DIR = METRICS_DIR / "baseline"
COMPARISON = METRICS_DIR / "comparison.json"  # transformer vs baseline, by the compare stage
EXPORT_METRICS = METRICS_DIR / "export.json"  # ONNX against PyTorch, by the export stage
# likely label errors, duplicates and leakage in the prepared data, by the quality stage
QUALITY_REPORT = METRICS_DIR / "quality.json"
QUALITY_DIR = METRICS_DIR / "quality"  # label_issues.csv, duplicates.csv, label_issues.png
# quality.model transformer: every train row's out-of-fold probabilities (quality_folds stage)
OUT_OF_FOLD = Path("data/quality/out_of_fold.parquet")
