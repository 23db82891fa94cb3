"""A project file as of a git revision or DVC experiment, read through DVC (its cache, or the
default remote), as `dvc metrics diff` and `dvc exp show` see it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textclf.config.errors import UserError

WORKSPACE = "workspace"


def read_text(path: str | Path, revision: str, repo: str | Path = ".") -> str:
    """The text of `path` (repository-relative) as of `revision`: a git commit, branch or tag,
    a DVC experiment name, or `workspace` for the working tree."""
    if revision == WORKSPACE:
        local = Path(repo) / path
        if not local.is_file():
            raise UserError(f"{WORKSPACE}: {path} not found (run `dvc repro` or `dvc pull`)")
        try:
            return local.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise UserError(f"{WORKSPACE}: {path} cannot be read ({error.reason})") from None
    # imported here: DVC takes seconds to import, and `workspace` reads do not need it
    import dvc.api
    from dvc.exceptions import DvcException, PathMissingError
    from dvc.scm import RevError

    try:
        commit = resolve_commit(revision, repo)
        return dvc.api.read(str(path), repo=str(repo), rev=commit, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{revision}: {path} cannot be read ({error.reason})") from None
    except RevError:
        raise UserError(f"{revision}: no such git revision or DVC experiment") from None
    except PathMissingError:
        # a commit whose dvc.lock records no run, e.g. `main` of a fresh clone
        raise UserError(
            f"{revision}: no recorded run has {path} (its dvc.lock does not list it): compare "
            "two experiments instead (`dvc exp show` lists them, e.g. `textclf compare "
            "<experiment> workspace`), or commit a run first (`git add dvc.lock params.yaml && "
            "git commit`)"
        ) from None
    except (DvcException, FileNotFoundError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{revision}: {path} cannot be read ({reason})") from None


def resolve_commit(revision: str, repo: str | Path = ".") -> str:
    """The commit `revision` names (a git commit, branch or tag, or a DVC experiment name);
    `workspace` stays itself. RevError (DVC's) if it names none."""
    from dvc.repo import Repo

    if revision == WORKSPACE:
        return WORKSPACE
    with Repo(str(repo)) as project:
        return _commit(project, revision)


def same_commits(revisions: list[str], repo: str | Path = ".") -> list[str]:
    """The commits of `revisions`, for telling two names of one run apart from two runs;
    UserError for a name that is no revision."""
    from dvc.repo import Repo
    from dvc.scm import RevError

    commits = []
    with Repo(str(repo)) as project:  # opened once for all of them
        for revision in revisions:
            try:
                commits.append(WORKSPACE if revision == WORKSPACE else _commit(project, revision))
            except RevError:
                raise UserError(f"{revision}: no such git revision or DVC experiment") from None
    return commits


def _commit(project: Any, revision: str) -> str:
    from dvc.scm import resolve_rev

    return resolve_rev(project.scm, revision)  # also DVC experiment names
