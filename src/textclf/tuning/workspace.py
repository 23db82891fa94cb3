"""What `textclf search --apply` must not destroy, checked before any trial runs. `dvc exp
apply` replaces the tracked files an experiment carries (params.yaml, dvc.lock) with the
experiment's, uncommitted edits included, and stashes and rewrites the untracked ones: a log
file this command's own output goes to would lose everything written after."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from textclf.config.errors import UserError


def uncommitted_files(repo: Path) -> list[str]:
    """Tracked files with uncommitted changes, staged or not."""
    status = subprocess.run(
        ["git", "status", "--porcelain=v1", "-z", "--untracked-files=no"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    if status.returncode != 0:
        raise UserError(f"{repo}: git status failed ({status.stderr.strip()})")
    entries = status.stdout.split("\0")
    paths, skip = [], False
    for entry in entries:
        if skip or not entry:
            skip = False
            continue
        paths.append(entry[3:])
        skip = entry[0] in "RC"  # a rename or copy: the next entry is its old path
    return paths


def output_files_inside(repo: Path) -> list[Path]:
    """This process's stdout and stderr where they are untracked, not ignored files of `repo`."""
    found = []
    for descriptor in (1, 2):
        try:
            path = Path(os.readlink(f"/proc/self/fd/{descriptor}"))
        except OSError:  # no /proc, or not a link: nothing to protect that can be seen
            continue
        if not path.is_file() or not path.is_relative_to(repo) or path in found:
            continue
        relative = str(path.relative_to(repo))
        known = subprocess.run(
            ["git", "ls-files", "--error-unmatch", relative], cwd=repo, capture_output=True
        )
        ignored = subprocess.run(["git", "check-ignore", "-q", relative], cwd=repo)
        if known.returncode != 0 and ignored.returncode != 0:
            found.append(path)
    return found


def check_apply_keeps_work(repo: Path) -> None:
    """UserError, before anything runs, if applying the winner would overwrite uncommitted
    edits or the file this command writes its output to."""
    changed = uncommitted_files(repo)
    if changed:
        raise UserError(
            f"--apply would overwrite the uncommitted changes to {', '.join(changed)} with the "
            "winner's files: commit or stash them first (nothing was run)"
        )
    logs = output_files_inside(repo)
    if logs:
        raise UserError(
            f"--apply rewrites the project's untracked files, and this command's output goes "
            f"to {logs[0]}, which would lose what follows: write it outside the project or to "
            "a git-ignored file (nothing was run)"
        )
