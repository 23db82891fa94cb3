"""Which input shards a `textclf score` run reads, and the output shard each becomes.

The input is a file, a folder (every data file under it) or a glob. Each input file becomes one
output shard named after it (its path under the input's root, `.parquet` for its suffixes), and a
Parquet file of many row groups can be cut into parts of about `shard_rows` rows along its row
groups (`name.part-00002-of-00010.parquet`). Names derive from the input only, so a rerun finds
the shards a crashed run finished and never writes a row twice.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow.parquet as pq

from textclf.config.errors import UserError
from textclf.data.formats import SUFFIXES, detect_format
from textclf.scale import remote
from textclf.scale.remote import is_parquet, is_remote, parquet_footer


class ShardError(UserError):
    """The input or output of a `score` run cannot be used as given."""


@dataclass(frozen=True)
class Shard:
    """One unit of work: an input file (or some of a Parquet file's row groups) and the name of
    its output shard under the output folder."""

    source: str
    output: str
    row_groups: tuple[int, int] | None = None  # [first, stop) of a Parquet file cut in parts

    def as_row(self) -> dict[str, object]:
        first, stop = self.row_groups or (-1, -1)
        return {"source": self.source, "output": self.output, "first": first, "stop": stop}

    @classmethod
    def from_row(cls, row: dict[str, object]) -> Shard:
        first, stop = int(row["first"]), int(row["stop"])
        return cls(str(row["source"]), str(row["output"]), None if first < 0 else (first, stop))


def is_data_file(path: PurePosixPath) -> bool:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in SUFFIXES and not path.name.startswith((".", "_"))


def input_files(pattern: str) -> tuple[list[str], str]:
    """The data files `pattern` names, in a stable order, and the root their output names are
    relative to: the file's folder, the folder itself, or the glob's fixed leading folders. A
    URL (`s3://...`) is listed on its filesystem (see textclf.scale.remote)."""
    if is_remote(pattern):
        files, root = remote.list_files(pattern, is_data_file)
        if not files:
            raise ShardError(f"--input {pattern}: no data files (.csv, .tsv, .jsonl, .parquet)")
        return files, root
    path = Path(pattern)
    if path.is_file():
        detect_format(pattern, settable=False)
        return [pattern], str(path.parent)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and is_data_file(p))
        if not files:
            raise ShardError(f"--input {pattern}: no data files (.csv, .tsv, .jsonl, .parquet)")
        return [str(file) for file in files], pattern
    if glob.has_magic(pattern):
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        files = [file for file in files if is_data_file(file)]
        if not files:
            raise ShardError(f"--input {pattern}: matches no data files")
        return [str(file) for file in files], str(remote.glob_root(path))
    raise ShardError(f"--input {pattern}: no such file or folder")


def output_stem(file: str, root: str) -> str:
    """The output name of `file` without suffix: its path under `root`, its data suffixes off."""
    path, base = PurePosixPath(file.split("://")[-1]), PurePosixPath(root.split("://")[-1])
    relative = path.relative_to(base) if path.is_relative_to(base) else PurePosixPath(path.name)
    name = relative.name
    for suffix in reversed(relative.suffixes):
        name = name.removesuffix(suffix)
        if suffix.lower() in SUFFIXES:
            break
    return str(relative.with_name(name or relative.name))


def plan(pattern: str, shard_rows: int) -> list[Shard]:
    """Every shard of the input, each with its output name; ShardError if two input files would
    write the same output shard (`news.csv` and `news.parquet` in one folder)."""
    files, root = input_files(pattern)
    shards: list[Shard] = []
    seen: dict[str, str] = {}
    for file in files:
        stem = output_stem(file, root)
        if stem in seen:
            raise ShardError(
                f"{file} and {seen[stem]} would both be scored into {stem}.parquet: rename one"
            )
        seen[stem] = file
        shards.extend(parts(file, stem, shard_rows))
    return shards


def parts(file: str, stem: str, shard_rows: int) -> list[Shard]:
    """A Parquet file of more than `shard_rows` rows in parts along its row groups; any other
    file whole."""
    if not is_parquet(file):
        return [Shard(file, f"{stem}.parquet")]
    metadata = parquet_footer(file, pq.read_metadata)
    groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    ranges, start, rows = [], 0, 0
    for index, count in enumerate(groups):
        rows += count
        if rows >= shard_rows:
            ranges.append((start, index + 1))
            start, rows = index + 1, 0
    if start < len(groups):
        ranges.append((start, len(groups)))
    if len(ranges) <= 1:
        return [Shard(file, f"{stem}.parquet")]
    total = len(ranges)
    return [
        Shard(file, f"{stem}.part-{i:05d}-of-{total:05d}.parquet", ranges[i]) for i in range(total)
    ]


def check_apart(output: Path, pattern: str, files: list[str]) -> None:
    """ShardError if the output folder is, or lies inside, an input folder or file, or holds an
    input file: scoring must never write where it reads."""
    if is_remote(pattern):
        return  # the output is a local folder, the input on another filesystem
    out = Path(os.path.realpath(output))
    path = Path(pattern)
    roots = [Path(os.path.realpath(path))] if path.is_dir() else []
    roots += [Path(os.path.realpath(file)) for file in files]
    for root in roots:
        if out == root or out.is_relative_to(root) or root.is_relative_to(out):
            raise ShardError(
                f"--output {output} is {'inside ' if out != root else ''}the input "
                f"({root}): choose a folder apart from what is scored"
            )
