"""The search's leaderboard: every configuration tried, ranked on its validation metric (the
mean over its seeds), with a bootstrap interval of its validation accuracy (of the same mean,
over the validation rows and the seeds), and whether the best can be told apart from the
runner-up (a paired bootstrap on the same validation rows)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from textclf.config.files import atomic_path
from textclf.evaluate.comparison import class_ids
from textclf.evaluate.statistics import group_intervals, paired_difference

COMPLETE = "complete"
INCOMPARABLE = "incomparable"  # finished, but scored on other validation rows than the study's


@dataclass(frozen=True)
class Entry:
    """One configuration: its trial's experiment, and the seed reruns of it, if any."""

    experiment: str
    values: dict[str, Any]
    state: str  # complete, pruned, failed or incomparable
    scores: list[float] = field(default_factory=list)  # the metric of each run (seeds)
    predicted: list[list[str]] = field(default_factory=list)  # each run's validation predictions
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return statistics.fmean(self.scores) if self.scores else math.nan


@dataclass(frozen=True)
class Board:
    entries: list[Entry]  # complete ones best first, then the pruned and failed
    metric: str
    labels: list[str]  # the validation labels every run was scored on
    classes: list[str]
    bounds: dict[str, tuple[float, float]]  # experiment -> validation accuracy interval
    versus_runner_up: dict[str, float] | None  # winner minus runner-up, accuracy with bounds

    @property
    def winner(self) -> Entry | None:
        complete = [entry for entry in self.entries if entry.state == COMPLETE]
        return complete[0] if complete else None

    @property
    def told_apart(self) -> bool:
        """Whether the winner's accuracy is above the runner-up's beyond the 95% interval."""
        diff = self.versus_runner_up
        return diff is not None and (
            diff["accuracy_diff_low"] > 0 or diff["accuracy_diff_high"] < 0
        )


def build_board(
    entries: Sequence[Entry],
    metric: str,
    lower_is_better: bool,
    labels: Sequence[str],
    classes: Sequence[str],
) -> Board:
    """Rank `entries` and measure how sure the ranking is."""
    complete = [entry for entry in entries if entry.state == COMPLETE and entry.scores]
    complete.sort(key=lambda entry: entry.score, reverse=not lower_is_better)
    rest = [entry for entry in entries if entry not in complete]
    bounds = {}
    for entry in complete:  # the interval of the seeds' mean, the score it stands beside
        ids, runs, categories = class_ids(labels, entry.predicted, classes)
        found = group_intervals(ids, runs, categories)
        bounds[entry.experiment] = (found["accuracy_low"], found["accuracy_high"])
    versus = None
    if len(complete) >= 2:
        best, second = complete[0], complete[1]
        ids, runs, categories = class_ids(labels, [*second.predicted, *best.predicted], classes)
        split = len(second.predicted)
        versus = paired_difference(ids, runs[:split], runs[split:], categories)
    return Board([*complete, *rest], metric, list(labels), list(classes), bounds, versus)


def searched_keys(entries: Sequence[Entry]) -> list[str]:
    """The keys whose values differ between entries (all of them for a single entry)."""
    keys = list(dict.fromkeys(key for entry in entries for key in entry.values))
    if len(entries) < 2:
        return keys
    return [key for key in keys if len({repr(e.values.get(key)) for e in entries}) > 1]


def board_table(board: Board) -> pd.DataFrame:
    """The leaderboard as a table (the CSV's rows)."""
    rows = []
    for rank, entry in enumerate(board.entries, start=1):
        low, high = board.bounds.get(entry.experiment, (math.nan, math.nan))
        spread = statistics.stdev(entry.scores) if len(entry.scores) > 1 else math.nan
        rows.append(
            {
                "rank": rank if entry.state == COMPLETE else "",
                "experiment": entry.experiment,
                "state": entry.state,
                board.metric: round(entry.score, 6),
                f"{board.metric}_seed_sd": round(spread, 6),
                "seeds": len(entry.scores),
                "accuracy_low": low,
                "accuracy_high": high,
                "seconds": round(entry.seconds, 1),
                **entry.values,
            }
        )
    return pd.DataFrame(rows)


def render_board(board: Board, limit: int = 10) -> str:
    """The leaderboard for people: the best `limit` entries, the keys that differ, and a
    verdict on whether the top two can be told apart."""
    keys = searched_keys(board.entries)
    lines = [
        f"{'rank':<5}{'experiment':<22}{board.metric:>14}  {'accuracy 95%':<16}"
        + "".join(f"{key.split('.')[-1]:>16}" for key in keys)
    ]
    for rank, entry in enumerate(board.entries[:limit], start=1):
        low, high = board.bounds.get(entry.experiment, (math.nan, math.nan))
        score = f"{entry.score:.4f}" if entry.scores else entry.state
        if len(entry.scores) > 1:
            score += f" x{len(entry.scores)}"
        interval = f"[{low:.3f}, {high:.3f}]" if not math.isnan(low) else ""
        cells = "".join(f"{format_value(entry.values.get(key)):>16}" for key in keys)
        place = str(rank) if entry.state == COMPLETE else "-"
        lines.append(f"{place:<5}{entry.experiment:<22}{score:>14}  {interval:<16}{cells}")
    lines.append(verdict(board))
    return "\n".join(lines)


def verdict(board: Board) -> str:
    winner, diff = board.winner, board.versus_runner_up
    if winner is None:
        return "no finished trial yet"
    if diff is None:
        return f"best: {winner.experiment} (no runner-up to compare with)"
    rows = len(board.labels)
    low, high = diff["accuracy_diff_low"], diff["accuracy_diff_high"]
    change = f"{diff['accuracy_diff']:+.4f} [{low:+.4f}, {high:+.4f}]"
    if board.told_apart:
        return (
            f"best: {winner.experiment}, accuracy {change} over the runner-up "
            f"({rows} validation rows)"
        )
    return (
        f"best: {winner.experiment}, but the top trials cannot be told apart on {rows} validation "
        f"rows (accuracy {change} over the runner-up, 95% interval includes 0): more "
        "validation rows or --seeds would tell"
    )


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def write_board(board: Board, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        board_table(board).to_csv(temporary, index=False)
