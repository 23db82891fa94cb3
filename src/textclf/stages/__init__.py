"""Pipeline stages, one module each, run by dvc.yaml as `python -m textclf.stages.<name>`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from textclf.config.errors import ParamsError, UserError
from textclf.config.typed_yaml import locate


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(); expected failures end in one line on stderr, not a traceback.

    A params check that needs the data (made after params.yaml was read) still names the
    key's line. Under torchrun every rank meets the same bad input: only rank 0 says so, once."""
    try:
        try:
            main()
        except ParamsError as error:
            raise locate(error, Path("params.yaml")) from None
    except UserError as error:
        if os.environ.get("RANK", "0") != "0":
            sys.exit(1)
        sys.exit(f"error: {error}")
