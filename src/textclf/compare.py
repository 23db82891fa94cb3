"""Is B really better than A? Compare two experiments' test predictions.

    textclf compare main workspace
    textclf compare exp-a1,exp-a2,exp-a3 exp-b1,exp-b2,exp-b3   # groups of seeds
    python -m textclf.compare ...                               (the same)

A and B are what `dvc metrics diff` takes: git commits, branches or tags, DVC experiment names,
or `workspace` for the working tree; a comma-separated list makes a group of runs (one per
seed, say), scored by its mean. Each run's `metrics/<model>/predictions.csv` is read through
DVC (the local cache, or the default remote). Prints the differences B - A with 95% paired-
bootstrap intervals, McNemar's exact p-value for one run per side, and a verdict at the 5%
level; exits 1 with one `error:` line when the runs cannot be compared (other test rows,
other classes) or cannot be read.
"""

from __future__ import annotations

import io
from pathlib import Path

from textclf.config.arguments import OneLineParser, description
from textclf.config.errors import UserError
from textclf.config.paths import BASELINE_DIR, TRANSFORMER_DIR
from textclf.config.revisions import read_text, same_commits
from textclf.evaluate.comparison import Run, compare, read_predictions, render

MODELS = {"transformer": TRANSFORMER_DIR, "baseline": BASELINE_DIR}


def read_run(revision: str, path: Path, repo: str) -> Run:
    """The predictions.csv at `path` as of `revision` (`workspace`: the working tree)."""
    return revision, read_predictions(io.StringIO(read_text(path, revision, repo)), revision)


def check_revisions(sides: list[list[str]], given: list[str]) -> None:
    """UserError for an empty revision, a run listed twice in a group (it would count as a
    second seed) or the same runs on both sides (nothing to compare)."""
    for side, text in zip(sides, given, strict=True):
        if not all(side):
            raise UserError(f"empty revision in {text!r}")
        repeated = sorted({revision for revision in side if side.count(revision) > 1})
        if repeated:
            raise UserError(f"{repeated[0]} is listed twice in {text!r}: each run counts once")
    if sorted(sides[0]) == sorted(sides[1]):
        raise UserError(f"A and B are the same runs ({given[0]}): give two different ones")


def main(argv: list[str] | None = None, prog: str = "textclf compare") -> None:
    parser = OneLineParser(
        prog=prog,
        description=description(__doc__),
        epilog="A, B: a git revision, a DVC experiment name or `workspace`; "
        "comma-separated for a group of runs.",
    )
    parser.add_argument("a", metavar="A")
    parser.add_argument("b", metavar="B")
    parser.add_argument("--model", choices=list(MODELS), default="transformer")
    parser.add_argument("--repo", default=".", help="the project's root (default: here)")
    args = parser.parse_args(argv)
    path = MODELS[args.model] / "predictions.csv"
    try:
        sides = [[revision.strip() for revision in side.split(",")] for side in (args.a, args.b)]
        check_revisions(sides, [args.a, args.b])
        # other names of the same runs (`main` and `HEAD`): the same check on their commits
        check_revisions([same_commits(side, args.repo) for side in sides], [args.a, args.b])
        groups = [[read_run(revision, path, args.repo) for revision in side] for side in sides]
        result = compare(*groups)
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
    print(render(result, args.a, args.b))


if __name__ == "__main__":
    main()
