"""Command-line arguments checked like params: a usage mistake is one `error:` line."""

from __future__ import annotations

import argparse


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end in one `error:` line, like every other error here."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {message} (see --help)\n")


def description(doc: str) -> str:
    """A command's `--help` description: its module docstring's first paragraph, whole (the
    first line alone can stop mid-sentence)."""
    return " ".join(doc.split("\n\n")[0].split())


def positive_int(value: str) -> int:
    number = int(value) if value.strip().lstrip("+").isdecimal() and value.isascii() else 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return number


def port_number(value: str) -> int:
    number = int(value) if value.strip().isdecimal() and value.isascii() else -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port, 0 to 65535, got {value!r}")
    return number


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a number of seconds, up to 3600, got {value!r}")
    return number


def milliseconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 10_000:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"must be a number of milliseconds, 0 to 10000, got {value!r}"
        )
    return number
