"""Search for the recipe that fits your data: an Optuna study over `search.space` (params.yaml),
every trial a DVC experiment through the train stage, the winner chosen on the validation
split only.

    textclf search                      # search.trials trials (a rerun continues the study)
    textclf search --trials 12 --seeds 3 --apply
    python -m textclf.search ...        (the same)

Prints a leaderboard as trials finish and writes it to search/<study>.csv. `--seeds K` reruns
the best `search.top` configurations with K seeds and picks the best mean. `--apply` puts the
winner in the workspace and runs the remaining stages (`dvc repro`): the test split is scored
once, for the winner. `--timeout` starts no trial after a time budget. While a trial runs,
its step and elapsed time are printed now and then. Ctrl-C keeps every finished trial.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from dvc.exceptions import DvcException
from dvc.repo import Repo
from dvc.repo.experiments.exceptions import InvalidExpRevError

from textclf.config.arguments import OneLineParser, description, positive_int
from textclf.config.errors import UserError
from textclf.config.library_logs import logger_level
from textclf.config.params import load_params
from textclf.config.paths import PARAMS_FILE, TRANSFORMER_DIR
from textclf.tuning.leaderboard import COMPLETE, render_board, write_board
from textclf.tuning.search import Search
from textclf.tuning.trials import dvc_command
from textclf.tuning.workspace import check_apply_keeps_work


def main(argv: Sequence[str] | None = None, prog: str = "textclf search") -> None:
    parser = OneLineParser(prog=prog, description=description(__doc__))
    parser.add_argument("--trials", type=positive_int, help="trials in the study (search.trials)")
    parser.add_argument(
        "--timeout",
        type=positive_int,
        metavar="SECONDS",
        help="start no new trial after this many seconds (the running one finishes): a "
        "search on a time budget",
    )
    parser.add_argument(
        "--seeds", type=positive_int, default=1, help="seeds per top configuration (default 1)"
    )
    parser.add_argument(
        "--apply", action="store_true", help="put the winner in the workspace and run the rest"
    )
    parser.add_argument("--repo", default=".", help="the project's root (default: here)")
    args = parser.parse_args(argv)
    repo = Path(args.repo).resolve()
    # SIGTERM (a scheduler, `kill`) stops the search as Ctrl-C does: the running trial is
    # stopped with its processes and marked failed, the finished ones are kept
    signal.signal(signal.SIGTERM, interrupt)
    try:
        if not (repo / "dvc.yaml").is_file():
            raise UserError(f"{repo}: no dvc.yaml here (run from the project's root, or --repo)")
        params = load_params(repo / PARAMS_FILE)
        if args.apply:
            check_apply_keeps_work(repo)
        trials = args.trials or params.search.trials
        search = Search(repo, params.search, params.train.seed, trials, timeout=args.timeout)
        board_file = repo / "search" / f"{params.search.study}.csv"
        try:
            search.run_trials()
            if args.seeds > 1:
                search.rerun_seeds(args.seeds)
        except KeyboardInterrupt:
            board = search.board()
            write_board(board, board_file)
            finished = sum(entry.state == COMPLETE for entry in board.entries)
            sys.exit(f"interrupted: the {finished} finished trials are kept ({board_file})")
        board = search.board()
        write_board(board, board_file)
        print(f"\nleaderboard ({board_file}):\n{render_board(board)}")
        if args.apply:
            apply_winner(repo, board.winner.experiment if board.winner else None)
        elif board.winner:
            print(
                f"\nthe winner is {board.winner.experiment}: `textclf search --trials "
                f"{search.trials_so_far()} --apply` puts it in the workspace and scores it on "
                "the test split, with no new trial; `git commit` then keeps it"
            )
    except UserError as error:
        raise SystemExit(f"error: {error}") from None


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def apply_winner(repo: Path, experiment: str | None) -> None:
    """`dvc exp apply` the winner, then `dvc repro` the stages after train: the test split is
    scored for this one recipe."""
    if experiment is None:
        raise UserError("no finished trial to apply")
    print(f"\napplying {experiment}: dvc exp apply, then dvc repro", flush=True)
    # in a project that never ran the stages after train, their outputs have no hash yet:
    # `dvc exp apply` would fail (and warn) on each of them; `dvc repro` below makes them
    try:
        with logger_level("dvc_data.index.checkout", logging.ERROR), Repo(str(repo)) as project:
            project.experiments.apply(experiment, allow_missing=True)
    except InvalidExpRevError:  # another machine's trial, not pulled here
        raise UserError(
            f"dvc exp apply {experiment}: no such experiment here; it ran on another machine: "
            f"`dvc exp pull origin {experiment}` first"
        ) from None
    except DvcException as error:
        raise UserError(f"dvc exp apply {experiment}: {error}") from None
    if subprocess.run([*dvc_command(), "repro"], cwd=repo).returncode != 0:
        raise UserError("dvc repro failed (see its output above)")
    test = json.loads((repo / TRANSFORMER_DIR / "test.json").read_text())
    print(
        f"{experiment}: test accuracy {test['accuracy']:.4f} "
        f"[{test['accuracy_low']:.4f}, {test['accuracy_high']:.4f}]; "
        "`dvc metrics show` has the rest, `git commit` keeps it"
    )


if __name__ == "__main__":
    main()
