#!/usr/bin/env bash
# The prepared GPU check, run on a lent machine with no network from the repository's root after
# `make gpu-kit` here (the device carries .gpukit/): the wheels the machine lacks, then
# gpu_speed.py (notebook against repository, compiled sides; about 5 minutes) and
# gpu_accuracy.py (MiniLM eager against compiled). Figures go to $OUT (or ./gpu-results).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
pip install --quiet --target /tmp/site --no-deps .gpukit/wheels/*.whl
export PYTHONPATH=/tmp/site:$PWD/src
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$out/gpu.txt"
cd bench
python gpu_speed.py --data ../.gpukit/data --tokenizer ../.gpukit/minilm \
    --rows 108000 --steps 300 --warmup 60 --budget-s 290 \
    --sides notebook,repo,repo/compiled,repo/compiled/unpadded,repo/compiled/batch96 \
    --results "$out/gpu_speed.md" 2>&1 | tee "$out/gpu_speed.log"
python gpu_accuracy.py --data ../.gpukit/data --model ../.gpukit/minilm --epochs 2 \
    2>&1 | tee "$out/gpu_accuracy.log"
