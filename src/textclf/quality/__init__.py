"""Data quality (the quality_folds and quality stages): out-of-fold probabilities from the
baseline or fine-tuned folds, likely label errors, duplicates and leakage, and the report.
Imports `config`, `data`, `evaluate` and `train`."""
