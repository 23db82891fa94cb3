"""`make gpu-kit`: the folder a GPU machine with no network runs the prepared check from, within
the size it takes, and the script that runs it names only what the kit holds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import torch
from fixtures import news_rows, write_news_csv

from textclf.modeling.loading import load_model_for_training
from textclf.modeling.tokenizer import load_tokenizer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import gpu_kit  # noqa: E402  (bench/ holds scripts, not a package)


def test_the_kit_holds_the_rows_and_an_fp32_minilm_under_the_limit(tmp_path, capsys):
    source = tmp_path / "source"
    source.mkdir()
    write_news_csv(source / "train.csv", news_rows(50, seed=0))
    write_news_csv(source / "test.csv", news_rows(20, seed=1))
    kit = tmp_path / "kit"
    code = gpu_kit.main(
        ["--data", str(source), "--train-rows", "30", "--kit", str(kit)] + ["--no-wheels"]
    )
    assert code == 0
    assert len((kit / "data/train.csv").read_bytes().splitlines()) == 30
    assert (kit / "data/test.csv").read_bytes() == (source / "test.csv").read_bytes()
    model = load_model_for_training(str(kit / "minilm"), ["a", "b", "c", "d"])
    assert {parameter.dtype for parameter in model.parameters()} == {torch.float32}
    assert load_tokenizer(str(kit / "minilm"))("a text")["input_ids"]
    assert gpu_kit.size(kit) < gpu_kit.LIMIT_BYTES
    assert "ready" in capsys.readouterr().out


def test_the_kit_pins_its_wheels_from_the_lock_file():
    pins = gpu_kit.pinned(gpu_kit.MISSING_THERE)
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    assert pins and all(pin in lock for pin in pins)
    assert {pin.split("==")[0] for pin in pins} >= {"datasets", "dill", "multiprocess"}


def test_the_check_script_reads_only_what_the_kit_holds():
    script = (ROOT / "bench/gpu_check.sh").read_text()
    subprocess.run(["bash", "-n", str(ROOT / "bench/gpu_check.sh")], check=True)
    assert set(re.findall(r"\.gpukit/(\w+)", script)) == {"wheels", "data", "minilm"}
    assert "bash bench/gpu_check.sh" in (ROOT / "bench/README.md").read_text()
