"""Prediction speed of a trained checkpoint: PyTorch against ONNX Runtime (fp32 and int8), on
the same rows, in one process; and the HTTP service's latency.

    python bench/onnx_speed.py --model models/model --data DIR [--rows 2000 --rounds 3]

DIR holds an AG-News-format test.csv (header-less label,title,description). The checkpoint is
exported with this repository's export code (textclf.ship.onnx_export) into a scratch folder. Each
round times every runtime once on the same rows (interleaved: the CPU's speed drifts), with
the same length-sorted batches of 64; ratios are medians of per-round ratios. Then
`python -m textclf.serve` is started on a free port with ONNX Runtime and timed on 1-text and
64-text requests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import torch
from machine import cpu_model, read_ag_news

from textclf.modeling.device import cpu_has_amx
from textclf.modeling.loading import load_classifier
from textclf.ship.onnx_export import export_onnx, quantize_int8
from textclf.ship.runtime import load


def timed_probabilities(classifier, texts, precision: str = "fp32") -> tuple[float, np.ndarray]:
    """Seconds to classify `texts` (tokenizing included), and the probabilities."""
    start = time.perf_counter()
    probabilities = classifier.probabilities(texts, 64, precision=precision)
    return time.perf_counter() - start, probabilities


def request(url: str, payload: dict | None = None) -> float:
    data = json.dumps(payload).encode() if payload is not None else None
    call = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(call, timeout=60) as response:
        response.read()
    return time.perf_counter() - start


def service_latency(folder: Path, texts: list[str], requests: int) -> dict:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "textclf.serve", "--model", str(folder), "--port", str(port)],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                request(f"{url}/health")
                break
            except OSError:
                time.sleep(0.1)
        for text in texts[:10]:  # warm-up
            request(f"{url}/predict", {"texts": [text]})
        single = [request(f"{url}/predict", {"texts": [texts[i]]}) for i in range(requests)]
        batch = [request(f"{url}/predict", {"texts": texts[i : i + 64]}) for i in range(0, 640, 64)]
    finally:
        os.killpg(server.pid, 15)
        server.wait()
    return {
        "p50_1_text_ms": 1000 * statistics.median(single),
        "p95_1_text_ms": 1000 * float(np.percentile(single, 95)),
        "median_64_texts_ms": 1000 * statistics.median(batch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="a trained checkpoint folder")
    parser.add_argument("--data", required=True, type=Path, help="folder with test.csv")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="1-text service requests")
    args = parser.parse_args()

    rows = read_ag_news(args.data / "test.csv").head(args.rows)
    labels = rows["label"].to_numpy()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "model"
        shutil.copytree(args.model, folder, ignore=shutil.ignore_patterns("onnx", "README.md"))
        (folder / "onnx").mkdir()
        model, _ = load_classifier(folder)
        export_onnx(model, folder / "onnx/model.onnx", opset=18)
        quantize_int8(folder / "onnx/model.onnx", folder / "onnx/model_quantized.onnx")
        del model
        runtimes = {"torch fp32": ("torch", "fp32"), "onnx fp32": ("onnx", None)}
        runtimes["onnx int8"] = ("onnx-int8", None)
        if cpu_has_amx():
            runtimes["torch bf16"] = ("torch", "bf16")
        classifiers = {name: load(folder, runtime) for name, (runtime, _) in runtimes.items()}
        texts = rows["text"].tolist()
        rounds = []
        for index in range(args.rounds):
            figures = {}
            for name, (_, precision) in runtimes.items():
                seconds, probabilities = timed_probabilities(
                    classifiers[name], texts, precision or "fp32"
                )
                figures[name] = (len(texts) / seconds, probabilities.argmax(axis=1))
            rounds.append(figures)
            print(
                f"round {index + 1}:", {k: round(v[0], 1) for k, v in figures.items()}, flush=True
            )
        service = service_latency(folder, rows["text"].tolist(), args.requests)
    print(render(args, runtimes, rounds, labels, service))


def render(args, runtimes, rounds, labels, service) -> str:
    reference = rounds[0]["torch fp32"][1]
    lines = [
        "## ONNX Runtime against PyTorch: prediction",
        "",
        f"Command: `python bench/onnx_speed.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, AMX: "
        f"{'yes' if cpu_has_amx() else 'no'}; torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), onnxruntime "
        f"{__import__('onnxruntime').__version__}. {len(labels)} test rows, batches of 64 "
        f"sorted by length, {len(rounds)} interleaved rounds (medians; ratios are medians of "
        "per-round ratios).",
        "",
        "| runtime | samples/s | / torch fp32 | same class as torch fp32 | test accuracy |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in runtimes:
        speed = statistics.median(r[name][0] for r in rounds)
        ratio = statistics.median(r[name][0] / r["torch fp32"][0] for r in rounds)
        predicted = rounds[0][name][1]
        same = (predicted == reference).mean()
        accuracy = (predicted == labels).mean()
        lines.append(f"| {name} | {speed:.1f} | {ratio:.2f}x | {same:.2%} | {accuracy:.4f} |")
    lines += [
        "",
        f"Service (`python -m textclf.serve`, ONNX Runtime, loopback HTTP): 1-text request p50 "
        f"{service['p50_1_text_ms']:.1f} ms, p95 {service['p95_1_text_ms']:.1f} ms "
        f"({args.requests} sequential requests); 64-text request median "
        f"{service['median_64_texts_ms']:.0f} ms.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
