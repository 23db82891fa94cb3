"""Pipeline stages, one module each, run by dvc.yaml as `python -m textclf.stages.<name>`."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from textclf.config.errors import ParamsError, UserError
from textclf.config.typed_yaml import locate

INTERRUPTED = (
    "interrupted: the stage stopped and its outputs are as they were; `dvc repro` (or "
    "`make quick`, `dvc exp run`) goes on, training from its last saved epoch"
)


def stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler, `kill`) unwinds the stage like Ctrl-C: temporary folders and
    half-written outputs are removed on the way out, not left behind."""
    raise KeyboardInterrupt


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(); expected failures end in one line on stderr, not a traceback.

    A params check that needs the data (made after params.yaml was read) still names the
    key's line. Under torchrun every rank meets the same bad input: only rank 0 says so, once.
    Ctrl-C and SIGTERM end in one line too, after the stage has cleaned up after itself."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    main_rank = os.environ.get("RANK", "0") == "0"
    try:
        try:
            main()
        except ParamsError as error:
            raise locate(error, Path("params.yaml")) from None
    except UserError as error:
        if not main_rank:
            sys.exit(1)
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED if main_rank else 130)
