"""Reading only the params.yaml sections a stage uses.

A stage states the sections it reads as a small frozen dataclass (its view) and loads that: it
then imports, and dvc.yaml makes it depend on, the code of those sections only, so an edit of
another section's code (the search section's, say) reruns nothing that does not use it. Keys
of the other sections are not read here; `textclf check` (and `make repro`) checks them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from textclf.config.errors import ParamsError
from textclf.config.paths import PARAMS_FILE
from textclf.config.typed_yaml import load_yaml_as

View = TypeVar("View")


def existing_params_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path} not found: run stages from the repository root")
    return path


def load_sections(view: type[View], path: str | Path = PARAMS_FILE) -> View:
    """The sections that `view`'s fields name, read from `path` and checked; ParamsError naming
    the first bad key and its line."""
    return load_yaml_as(view, existing_params_file(path), partial=True)
