"""Atomic file output and raw-data fetching.

Stages write through these helpers so that a crash never leaves a half-written output that DVC
could mistake for a finished one.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

CHUNK_SIZE = 1 << 20


class FetchError(RuntimeError):
    """A raw-data source cannot be read; the message says which param points at it."""


@contextmanager
def atomic_path(target: str | Path, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of `target`; move it onto `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.tmp-"
    if directory:
        temporary = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    else:
        handle, name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
        os.close(handle)
        temporary = Path(name)
    # mkstemp/mkdtemp create 0600/0700: outputs get the usual permissions instead
    temporary.chmod((0o777 if directory else 0o666) & ~_umask())
    try:
        yield temporary
        if directory and target.exists():
            shutil.rmtree(target)
        os.replace(temporary, target)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        elif temporary.exists():
            temporary.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, data: Any) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def to_url(source: str) -> str:
    """A URL for `source`: http(s) and file:// URLs pass through, paths become file:// URLs."""
    if "://" in source:
        return source
    return Path(source).expanduser().resolve().as_uri()


def fetch(source: str, target: str | Path, param_key: str) -> None:
    """Copy `source` (http(s) or file:// URL, or a local path) to `target`, atomically.

    Raises FetchError with a one-line message naming `param_key` when the source is unreachable.
    """
    url = to_url(source)
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise FetchError(
            f"cannot read {source} ({reason}); to run offline, point {param_key} in params.yaml "
            f"at a local CSV, e.g. dvc exp run -S {param_key}=path/to/file.csv"
        ) from None
    total = int(response.headers.get("Content-Length") or 0) or None
    progress = tqdm(total=total, unit="B", unit_scale=True, desc=Path(target).name)
    try:
        with response, progress, atomic_path(target) as temporary, temporary.open("wb") as out:
            while chunk := response.read(CHUNK_SIZE):
                out.write(chunk)
                progress.update(len(chunk))
            if total is not None and progress.n != total:
                raise OSError(f"got {progress.n} of {total} bytes")
    except (OSError, http.client.HTTPException) as error:
        raise FetchError(
            f"download of {source} interrupted ({error}); nothing was written"
        ) from None
