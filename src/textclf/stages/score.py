"""Stage score: the archive at `score.input` scored with models/<score.model> (the student by
default) into data/scored/, for teams that want the scored archive versioned (see
docs/scoring.md). With `score.input` empty, the default, it writes only data/scored/README.md
saying so, and starts nothing: the default `dvc repro` costs nothing more.

The job writes into data/scoring/ and renames it to data/scored/ when every shard is done: DVC
removes a stage's outputs before it runs, so a `dvc repro` after a crash resumes from the shards
data/scoring/ already holds instead of starting over."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from textclf.config.files import write_text
from textclf.config.paths import SCORED_DIR, SCORING_DIR
from textclf.config.score_params import ScoreParams
from textclf.config.sections import load_sections
from textclf.stages import run

NOTHING_SCORED = "Nothing scored: `score.input` is empty. See docs/scoring.md.\n"


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    score: ScoreParams


def main() -> None:
    params = load_sections(Sections).score
    if not params.input:
        write_text(SCORED_DIR / "README.md", NOTHING_SCORED)
        return
    # imported here: the default no-op loads neither PyTorch nor Ray
    from textclf.scale.job import ScoreOptions, score

    options = ScoreOptions(
        model=str(Path("models") / params.model),
        input=params.input,
        output=str(SCORING_DIR),
        keep=params.kept_columns,
        actors=params.actors,
        batch_size=params.batch_size,
        address=params.address or None,
    )
    summary = score(options)
    if SCORED_DIR.exists():
        shutil.rmtree(SCORED_DIR)
    os.replace(SCORING_DIR, SCORED_DIR)
    print(f"{SCORED_DIR}: {summary.total_rows:,} rows in {summary.shards} shards")


if __name__ == "__main__":
    run(main)
