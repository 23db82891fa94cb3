"""Stage download: fetch the raw train/test (and optional validation) files named in params
(URL or local path, any supported format) into data/raw/, keeping their format suffix."""

from __future__ import annotations

from textclf.config.files import fetch
from textclf.config.params import load_params
from textclf.data.formats import stored_name
from textclf.data.tables import RAW_DIR
from textclf.stages import run


def main() -> None:
    data = load_params().data
    sources = {"train": data.train_url, "test": data.test_url, "validation": data.validation_url}
    for split, source in sources.items():
        if source:
            target = RAW_DIR / stored_name(split, source, data.format)
            fetch(source, target, param_key=f"data.{split}_url")


if __name__ == "__main__":
    run(main)
