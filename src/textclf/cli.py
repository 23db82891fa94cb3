"""The `textclf` command: one entry point with a subcommand per tool, as `dvc` and `git` have.

    textclf quick --data DIR
    textclf results
    textclf exps
    textclf predict "Stocks rally as oil prices fall"
    textclf score --model models/student --input archive/ --output scored/
    textclf serve --model models/model
    textclf compare main workspace
    textclf search --trials 12 --apply
    textclf select --input pool.csv --count 200 --output to_label.csv
    textclf <command> --help

Each subcommand is also a module (`python -m textclf.predict ...`), so scripts written for
those keep working. A subcommand's module is imported only when it runs: `textclf --help`
answers at once, without loading PyTorch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

COMMANDS = {
    "quick": ("textclf.quick", "the whole pipeline in minutes on a CPU: small model, small slice"),
    "check": ("textclf.check", "are the data files and the model reachable? (before a run)"),
    "results": ("textclf.results", "the last run's headline results, and what to run next"),
    "exps": ("textclf.exps", "the experiments side by side, in 120 columns"),
    "predict": ("textclf.predict", "classify texts or a file with a trained model"),
    "score": ("textclf.score", "score a whole archive of shards, here or on a Ray cluster"),
    "serve": ("textclf.serve", "serve a model folder over HTTP"),
    "compare": ("textclf.compare", "is B really better than A? compare two experiments"),
    "search": ("textclf.search", "search for the recipe that fits your data (Optuna + DVC)"),
    "select": ("textclf.select", "what to label next: the pool rows the model is least sure of"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return (
        "usage: textclf <command> [options]   (textclf <command> --help for its options)\n\n"
        "Fine-tune, compare and ship BERT-family text classifiers (a DVC pipeline).\n\n"
        "commands:\n" + "\n".join(lines) + "\n"
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), end="")
        sys.exit(0 if args else 2)
    if args[0] == "--version":
        try:
            print(f"textclf {version('textclf')}")
        except PackageNotFoundError:
            print("textclf (not installed)")
        return
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        sys.exit(f"error: unknown command {name!r} (expected one of: {', '.join(COMMANDS)})")
    module = importlib.import_module(COMMANDS[name][0])
    module.main(rest, prog=f"textclf {name}")


if __name__ == "__main__":
    main()
