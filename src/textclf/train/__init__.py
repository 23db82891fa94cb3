"""Training: loading models (hub id or local directory, safetensors only), the Trainer set-up,
CPU dropout, sampling, class weights, resumable checkpoints, trackers and inference. Imports
`config`, `data` and `evaluate`."""
