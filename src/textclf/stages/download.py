"""Stage download: fetch the raw train/test CSVs named in params (URL or local path)."""

from __future__ import annotations

from textclf.data import RAW_DIR
from textclf.files import fetch
from textclf.params import load_params
from textclf.stages import run


def main() -> None:
    data = load_params().data
    for split, source in (("train", data.train_url), ("test", data.test_url)):
        fetch(source, RAW_DIR / f"{split}.csv", param_key=f"data.{split}_url")


if __name__ == "__main__":
    run(main)
