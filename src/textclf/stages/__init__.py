"""Pipeline stages, one module each, run by dvc.yaml as `python -m textclf.stages.<name>`."""

from __future__ import annotations

import sys
from collections.abc import Callable

from textclf.data import DataError
from textclf.files import FetchError
from textclf.params import ParamsError


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(); expected failures end in one line on stderr, not a traceback."""
    try:
        main()
    except (ParamsError, DataError, FetchError) as error:
        sys.exit(f"error: {error}")
