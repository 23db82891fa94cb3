"""Every path the pipeline reads or writes, as dvc.yaml declares it (relative to the repository
root), in one place with no project imports: a stage imports where its files live without
importing, and so without depending on, the code that makes them."""

from __future__ import annotations

from pathlib import Path

PARAMS_FILE = Path("params.yaml")
SPLITS = ("train", "validation", "test")

# data/: the download, prepare, tokenize and quality_folds stages
RAW_DIR = Path("data/raw")  # train, test (and validation) files, with their format suffix
PREPARED_DIR = Path("data/prepared")  # {train,validation,test}.parquet
SCHEMA_FILE = PREPARED_DIR / "schema.json"  # class names and how the text was built
TOKENIZED_DIR = Path("data/tokenized")  # <split>/<split>-NNNNN.parquet shards
TOKENIZER_DIR = TOKENIZED_DIR / "tokenizer"
TRUNCATION_FILE = TOKENIZED_DIR / "truncation.json"
# quality.model transformer: every train row's out-of-fold probabilities (quality_folds stage)
OUT_OF_FOLD = Path("data/quality/out_of_fold.parquet")

# models/: the train stage's checkpoint, and the folder to ship (that checkpoint with its ONNX
# export and model card, by the package stage), which `predict` and `serve` read by default
TRAINED_DIR = Path("models/trained")
MODEL_DIR = Path("models/model")
ONNX_DIR = Path("models/onnx")  # the export stage's output
# not outputs: what an interrupted train or quality_folds run resumes from
CHECKPOINT_DIR = Path("models/checkpoints")
FOLD_DIR = Path("models/quality-folds")

# metrics/
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

# the trackers' logs of the train stage: DVCLive's, and the others' local files (TensorBoard)
DVCLIVE_DIR = Path("dvclive/train")
TRACKER_LOGS_DIR = Path("logs/train")
# `textclf search`: one log file per trial
SEARCH_LOG_DIR = Path("search/logs")

# the distill stage's student (see docs/serving-cheaply.md)
STUDENT_DIR = Path("models/student")
STUDENT_METRICS_DIR = METRICS_DIR / "student"  # test.json as metrics/transformer's, + teacher

# the score stage's scored archive, and where its job works until every shard is done
SCORED_DIR = Path("data/scored")
SCORING_DIR = Path("data/scoring")

# the code stage's manifests, code/<stage>.txt: the hash of every module a stage runs
CODE_DIR = Path("code")
SOURCE_DIR = Path("src")
