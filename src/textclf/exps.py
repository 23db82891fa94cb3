"""The experiments side by side, in a terminal's width: `dvc exp show` cut down to what tells
runs apart.

    textclf exps                        this commit's experiments and the workspace
    textclf exps --all                  those of every commit on the branch
    python -m textclf.exps ...          (the same)

One row per run: its name, when it ran, each model's test accuracy (transformer, TF-IDF
baseline, student), the kept epoch's validation accuracy, and the params that differ from the
commit's (paths shown by their last part). At most `--width` characters a row (120 by default);
`dvc exp show` has every column.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import PurePath

from textclf.config.arguments import OneLineParser, description, positive_int
from textclf.config.errors import UserError

METRICS = {  # column title: dvc exp show's key
    "transformer": "metrics/transformer/headline.json:accuracy",
    "baseline": "metrics/baseline/headline.json:accuracy",
    "student": "metrics/student/headline.json:accuracy",
    "validation": "eval_accuracy",
}
NAME_WIDTH = 18
FIXED = ("Experiment", "rev", "typ", "Created", "parent", "State", "Executor")


def shown(value: object) -> str:
    """A param's value, short: a path by its last part, a float in few digits."""
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if "/" in text and " " not in text and not text.startswith("["):
        return PurePath(text.rstrip("/")).name or text
    return text


def metric(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else "-"


def params_of(row: dict) -> dict[str, object]:
    """The row's params: every key that is not a DVC column, a metric or a file dependency."""
    return {
        key: value
        for key, value in row.items()
        if key not in FIXED
        and key not in METRICS.values()
        and ":" not in key
        and "/" not in key
        and not key.startswith("eval_")
    }


# the params read first when a row is cut to the width: the model and the recipe, then the data
FIRST = ("model.", "train.", "tokenize.", "prepare.", "data.")


def importance(key: str) -> int:
    return next((rank for rank, prefix in enumerate(FIRST) if key.startswith(prefix)), len(FIRST))


def table(rows: list[dict], width: int = 120) -> str:
    """`rows` (dvc.api.exp_show's) as lines of at most `width` characters."""
    if not rows:
        raise UserError("no runs here yet: `make quick`, `dvc repro` or `dvc exp run` make one")
    baseline = next(
        (row for row in rows if row["typ"] == "baseline" and row["rev"] != "workspace"), rows[0]
    )
    reference = params_of(baseline)
    header = f"{'run':<{NAME_WIDTH}} {'created':<8} " + " ".join(
        f"{title[:11]:>11}" for title in METRICS
    )
    lines = [(header + "  changed params")[:width]]
    for row in rows:
        name = row["Experiment"] or row["rev"]
        if row["typ"] == "baseline" and row["rev"] != "workspace":
            name = f"{row['rev']} (commit)"
        changed = ", ".join(
            f"{key}={shown(value)}"
            for key, value in sorted(params_of(row).items(), key=lambda item: importance(item[0]))
            if reference.get(key) != value
        )
        line = f"{name[:NAME_WIDTH]:<{NAME_WIDTH}} {str(row['Created'] or '-')[:8]:<8} "
        line += " ".join(f"{metric(row.get(key)):>11}" for key in METRICS.values())
        line += f"  {changed}" if changed else ""
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str = "textclf exps") -> None:
    parser = OneLineParser(prog=prog, description=description(__doc__))
    parser.add_argument("--all", action="store_true", help="every commit's experiments")
    parser.add_argument(
        "--width", type=positive_int, default=120, help="characters a row (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    import dvc.api
    from dvc.exceptions import DvcException
    from scmrepo.exceptions import SCMError

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            rows = dvc.api.exp_show(num=-1 if args.all else 1)
        print(table(rows, args.width))
    except (DvcException, SCMError) as error:
        raise SystemExit(f"error: no DVC project with git history here ({error})") from None
    except UserError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
