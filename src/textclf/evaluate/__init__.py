"""Scores: metrics with intervals, multi-label scores, calibration, mistakes, model-against-
model comparison and the figures. Imports only `config` and `data`; the Trainer's per-epoch
validation scores come from here too."""
