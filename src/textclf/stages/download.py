"""Stage download: fetch the raw train/test (and optional validation) files named in params
(URL or local path, any supported format) into data/raw/, keeping their format suffix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textclf.config.data_params import DataParams
from textclf.config.errors import UserError
from textclf.config.files import fetch
from textclf.config.paths import PARAMS_FILE, RAW_DIR
from textclf.config.sections import load_sections
from textclf.config.sources import check_sources
from textclf.config.typed_yaml import key_places
from textclf.data.formats import stored_name
from textclf.stages import run


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    data: DataParams


def main() -> None:
    data = load_sections(Sections).data
    sources = {"train": data.train_url, "test": data.test_url, "validation": data.validation_url}
    sources = {split: source for split, source in sources.items() if source}
    # every unreachable file named at once, before a download starts
    keys = [f"data.{split}_url" for split in sources]
    try:
        check_sources(dict(zip(keys, sources.values(), strict=True)), key_places(PARAMS_FILE, keys))
        for split, source in sources.items():
            target = RAW_DIR / stored_name(split, source, data.format)
            fetch(source, target, param_key=f"data.{split}_url")
    except UserError as error:
        raise UserError(f"{error}{restore_hint()}") from None


def restore_hint() -> str:
    """How to get data/raw/ back: DVC removed it before this stage ran, and a run recorded in
    dvc.lock (committed or not) has it in the DVC cache."""
    lock = Path("dvc.lock")
    if lock.is_file() and f"path: {RAW_DIR}" in lock.read_text(encoding="utf-8"):
        return f"; the files {RAW_DIR}/ held before come back with `dvc checkout {RAW_DIR}`"
    return ""


if __name__ == "__main__":
    run(main)
