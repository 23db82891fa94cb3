"""Scores: a model's probabilities on a split, metrics with intervals, multi-label scores,
calibration, mistakes, model-against-model comparison and the figures. Imports `config`, `data`
and `modeling`; the Trainer's per-epoch validation scores come from here too."""
