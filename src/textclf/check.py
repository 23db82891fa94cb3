"""Can the pipeline run here? Checks, before any stage runs, that every source it will need
is reachable: the data files (`data.*_url`) and the pretrained model (`model.name`).

    textclf check                      (what `make repro` runs first)
    python -m textclf.check ...        (the same)

Sources of stages that DVC will not rerun are not needed and not checked (an offline machine
with the data already downloaded passes). Every unreachable source is named in one `error:`
message, with its line in params.yaml and what to do offline; exits 1, nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from textclf.config.arguments import OneLineParser, description
from textclf.config.errors import UserError
from textclf.config.params import Params, load_params
from textclf.config.paths import PARAMS_FILE
from textclf.config.sources import MODEL_KEY, check_sources
from textclf.config.typed_yaml import key_places

# the stages that read each kind of source; anything before them changing reruns them too
DATA_STAGES = {"download"}
MODEL_STAGES = {"download", "prepare", "tokenize", "train", "quality_folds"}


def sources(params: Params) -> dict[str, str]:
    """Param key -> source, for every source params.yaml names."""
    data = params.data
    found = {
        "data.train_url": data.train_url,
        "data.test_url": data.test_url,
        "data.validation_url": data.validation_url,
        MODEL_KEY: params.model.name,
    }
    return {key: value for key, value in found.items() if value}


def stale_stages(repo: Path) -> set[str] | None:
    """The stages `dvc repro` would run in `repo`, or None when DVC cannot tell (then every
    source counts as needed)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(repo)) as project:
            return {name.partition(":")[0] for name in project.status()}
    except DvcException:
        return None


def needed(found: dict[str, str], stale: set[str] | None) -> dict[str, str]:
    """The sources that the stale stages read."""
    if stale is None:
        return found
    keep = {key for key in found if key != MODEL_KEY} if stale & DATA_STAGES else set()
    if stale & MODEL_STAGES:
        keep.add(MODEL_KEY)
    return {key: value for key, value in found.items() if key in keep}


def check(repo: Path) -> None:
    """UserError naming every source the next `dvc repro` in `repo` needs and cannot reach."""
    params = load_params(repo / PARAMS_FILE)
    wanted = needed(sources(params), stale_stages(repo))
    places = key_places(repo / PARAMS_FILE, list(wanted))
    check_sources(wanted, {key: place.removeprefix(f"{repo}/") for key, place in places.items()})


def main(argv: list[str] | None = None, prog: str = "textclf check") -> None:
    parser = OneLineParser(prog=prog, description=description(__doc__))
    parser.add_argument("--repo", default=".", help="the project's root (default: here)")
    args = parser.parse_args(argv)
    try:
        check(Path(args.repo))
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
    print("sources: reachable (or not needed: their stages are up to date)")


if __name__ == "__main__":
    main()
