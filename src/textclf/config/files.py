"""Atomic file output and raw-data fetching.

Stages write through these helpers so that a crash never leaves a half-written output that DVC
could mistake for a finished one.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from textclf.config.errors import UserError

CHUNK_SIZE = 1 << 20


class OutputError(UserError):
    """A command's output path cannot be written."""


class FetchError(UserError, RuntimeError):
    """A raw-data source cannot be read; the message says which param points at it."""


@contextmanager
def atomic_path(target: str | Path, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of `target`; move it onto `target` only if the block succeeds.

    Only a regular file (or nothing) is replaced: a symlink's target is written, the link kept;
    a FIFO, a device or another non-regular file (`/dev/stdout`) is written through, since a
    rename would destroy it and the reader at its other end would get nothing."""
    target = Path(target)
    if not directory and _exists_not_regular(target):
        yield target
        return
    if not directory and target.is_symlink():
        target = target.resolve()  # the file the link points at; the link stays
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    prefix = f".{target.name}.tmp-{os.getpid()}-"
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
        if directory:
            _share_files(temporary)
            if target.exists():
                shutil.rmtree(target)
        os.replace(temporary, target)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        elif temporary.exists():
            temporary.unlink()


def _share_files(folder: Path) -> None:
    """Give every file in `folder` the permissions the umask allows: some writers (safetensors)
    create 0600 files, which a team's shared model folder could not read."""
    allowed = 0o666 & ~_umask()
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(path.stat().st_mode & 0o7777 | allowed)


def _exists_not_regular(path: Path) -> bool:
    """Whether `path` (its link's target, for a symlink) exists and is no regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def remove_stale_temporaries(target: Path) -> None:
    """Delete temporaries of `target` left by killed processes: only names that atomic_path
    makes (`.NAME.tmp-<pid>-<8 random characters>`) whose PID is gone; a user's own
    `.NAME.tmp-notes` stays."""
    ours = re.compile(rf"\.{re.escape(target.name)}\.tmp-(\d+)-[a-z0-9_]{{8}}")
    for stale in target.parent.glob(f".{glob.escape(target.name)}.tmp-*"):
        match = ours.fullmatch(stale.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        pass
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether `pid` has exited but not been reaped (a killed Ray worker whose parent is gone):
    it holds no file open and writes nothing more."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS): only a live process answers the signal above
        return False
    return stat_line.rpartition(")")[2].split()[:1] == ["Z"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_json(path: str | Path, data: Any) -> None:
    # allow_nan=False: a NaN would make the file invalid JSON for `dvc metrics`
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def check_output_folder(output: str | Path) -> None:
    """OutputError unless `output`'s folder exists: checked before any work is done."""
    if not Path(output).parent.is_dir():
        raise OutputError(f"{output}: the folder {Path(output).parent} does not exist")


def write_output(output: str | Path, write: Callable[[Path], None]) -> None:
    """`write(temporary)` then the temporary renamed to `output` (see atomic_path); a failed
    write is one OutputError line and leaves `output` as it was."""
    try:
        with atomic_path(output) as temporary:
            write(temporary)
    except OSError as error:
        raise OutputError(f"{output}: cannot write ({error.strerror or error})") from None


def to_url(source: str) -> str:
    """A URL for `source`: http(s) and file:// URLs pass through, paths become file:// URLs."""
    if "://" in source:
        return source
    return Path(os.path.abspath(Path(source).expanduser())).as_uri()


# query parameters that carry a credential (psycopg's `?password=`, a signed URL's signature,
# an API token): their values are hidden like a URL's password
SECRET_QUERY_KEYS = re.compile(
    r"pass|pwd|secret|token|key|sig|auth|credential|session|sas", re.IGNORECASE
)


def url_secrets(url: str) -> set[str]:
    """The credentials written in `url`: its password and its secret query values."""
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:
        return set()
    found = {password} if password else set()
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=False):
        if SECRET_QUERY_KEYS.search(key):
            found.add(value)
    return found


def redact(source: str) -> str:
    """`source` with any credential in the URL (password, secret query values) replaced."""
    try:
        parts = urllib.parse.urlsplit(source)
        password = parts.password
    except ValueError:
        return source
    hidden = parts
    if password is not None:
        host = parts.netloc.rpartition("@")[2]
        hidden = hidden._replace(netloc=f"{parts.username}:***@{host}")
    if parts.query:
        query = [
            f"{key}=***" if SECRET_QUERY_KEYS.search(urllib.parse.unquote(key)) else pair
            for pair in parts.query.split("&")
            for key in [pair.partition("=")[0]]
        ]
        hidden = hidden._replace(query="&".join(query))
    # rebuilt only when something is hidden: urlunsplit drops an empty `//` (sqlite:///x)
    return source if hidden == parts else urllib.parse.urlunsplit(hidden)


def without_password(text: str, url: str) -> str:
    """`text` (a library's error message, say) with the credentials of `url` in it replaced."""
    for secret in sorted(url_secrets(url), key=len, reverse=True):
        for form in {secret, urllib.parse.unquote(secret), urllib.parse.quote(secret)}:
            text = text.replace(form, "***")
    return text


def fetch(source: str, target: str | Path, param_key: str) -> None:
    """Copy `source` (http(s) or file:// URL, or a local path) to `target`, atomically.

    Raises FetchError with a one-line message naming `param_key` when the source is unreachable.
    """
    shown = redact(source)
    try:
        response = urllib.request.urlopen(to_url(source), timeout=60)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        reason = redact(str(getattr(error, "reason", error)))
        raise FetchError(
            f"cannot read {shown} ({reason}); to run offline, point {param_key} in params.yaml "
            f"at a local file, e.g. dvc exp run -S {param_key}=path/to/file.csv"
        ) from None
    total = int(response.headers.get("Content-Length") or 0) or None
    chunked = response.headers.get("Transfer-Encoding", "").lower() == "chunked"
    if total is None and not chunked and to_url(source).startswith(("http://", "https://")):
        print(
            f"warning: {shown} sent no length; a connection dropped midway cannot be told "
            "from the end of the file",
            file=sys.stderr,
        )
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
            f"download of {shown} interrupted ({redact(str(error)) or type(error).__name__}); "
            "nothing was written"
        ) from None
