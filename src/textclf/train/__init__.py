"""Training: the Trainer set-up, CPU dropout, sampling, resumable checkpoints, trackers and the
baseline. Imports `config`, `data`, `modeling` and `evaluate`."""
