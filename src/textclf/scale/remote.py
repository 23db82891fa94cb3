"""Shards on another filesystem: `s3://bucket/archive/`, `gs://...`, any URL that fsspec reaches
with its plugin installed (s3fs comes with the DVC S3 plugin). They are listed where they are,
and the actor that scores one copies it to a local temporary file first, so that reading it is
the same code as for a local file; a column check copies only the file's first MiB (a Parquet
file's footer is read in place). Credentials come the way the filesystem takes them (for S3:
the AWS_* environment variables, AWS_ENDPOINT_URL included, or ~/.aws), never on a command line.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath, PurePosixPath
from typing import TypeVar

import pyarrow as pa

from textclf.config.errors import UserError
from textclf.data.formats import detect_format
from textclf.data.table import DataError

HEAD_BYTES = 1 << 20  # enough for a header and a first row
T = TypeVar("T")


class RemoteError(UserError):
    """A remote input cannot be listed or read."""


def is_remote(path: str) -> bool:
    return "://" in path


def filesystem(url: str) -> tuple[object, str]:
    """The fsspec filesystem of `url` and the path on it; RemoteError if none is installed."""
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as error:
        scheme = url.split("://", 1)[0]
        raise RemoteError(
            f"{url}: no filesystem for {scheme}:// ({str(error).splitlines()[0][:200]})"
        ) from None


def url_of(path: str, like: str) -> str:
    """`path` (on the filesystem of the URL `like`) as a URL with `like`'s scheme."""
    return f"{like.split('://', 1)[0]}://{path}"


def glob_root(pattern: PurePath) -> PurePath:
    """The folders of a glob pattern before its first wildcard: what its matches are under."""
    return type(pattern)(*itertools.takewhile(lambda p: not glob.has_magic(p), pattern.parts))


def list_files(pattern: str, is_data_file) -> tuple[list[str], str]:
    """The data files a remote file, folder or glob names, sorted, and their root URL."""
    fs, path = filesystem(pattern)
    try:
        if fs.isfile(path):
            return [pattern], url_of(str(PurePosixPath(path).parent), pattern)
        if fs.isdir(path):
            found, root = fs.find(path), path
        else:
            found, root = fs.glob(path), str(glob_root(PurePosixPath(path)))
    except OSError as error:
        raise RemoteError(f"{pattern}: cannot list it ({error})") from None
    files = sorted(p for p in found if is_data_file(PurePosixPath(p)))
    return [url_of(p, pattern) for p in files], url_of(root.rstrip("/"), pattern)


def signature(url: str) -> dict[str, object]:
    """What says a remote file is the one an output shard was scored from: its size and its
    version (ETag, or modification time)."""
    fs, path = filesystem(url)
    info = fs.info(path)
    version = next((info[k] for k in ("ETag", "etag", "mtime", "LastModified") if k in info), "")
    return {"size": int(info.get("size") or 0), "version": str(version)}


@contextlib.contextmanager
def local_copy(url: str, head_only: bool = False) -> Iterator[Path]:
    """A local temporary copy of `url` (its first HEAD_BYTES with `head_only`), with the same
    file name so that its format reads from its suffixes; removed afterwards. A DataError about
    the copy names `url` instead."""
    fs, path = filesystem(url)
    folder = Path(tempfile.mkdtemp(prefix="textclf-shard-"))
    local = folder / PurePosixPath(path).name
    try:
        try:
            with fs.open(path, "rb") as source, local.open("wb") as target:
                if head_only:
                    target.write(source.read(HEAD_BYTES))
                else:
                    shutil.copyfileobj(source, target, 1 << 20)
        except OSError as error:
            raise RemoteError(f"{url}: cannot read it ({error})") from None
        try:
            yield local
        except DataError as error:
            raise type(error)(str(error).replace(str(local), url)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def is_parquet(name: str) -> bool:
    """Whether `name` is a Parquet file read in place (a gzipped one is read whole)."""
    return detect_format(name, settable=False) == "parquet" and not name.endswith(".gz")


def parquet_footer(source: str, read: Callable[[object], T]) -> T:
    """`read` (pq.read_schema, pq.read_metadata) of a local or remote Parquet file's footer;
    DataError naming the file if it is not one."""
    try:
        if not is_remote(source):
            return read(source)
        fs, path = filesystem(source)
        with fs.open(path, "rb") as file:
            return read(file)
    except (pa.ArrowException, OSError) as error:
        reason = str(error).strip().splitlines()[0]
        raise DataError(f"{source}: not a readable Parquet file ({reason})") from None
