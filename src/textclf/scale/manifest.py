"""The record of a `textclf score` run beside its shards (`_manifest.json`; pyarrow and pandas
skip files whose names start with `_` when they read the folder): the model folder's fingerprint
and the settings, written before any shard, so that a rerun refuses to mix another model's
shards into the folder; and at the end the inputs, rows and class counts."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from textclf.config.files import read_json, write_json
from textclf.scale import remote
from textclf.scale.remote import is_remote
from textclf.scale.shards import ShardError

MANIFEST = "_manifest.json"


def fingerprint(model_dir: str | Path) -> str:
    """The md5 of a model folder's files (names and bytes), as DVC hashes a folder."""
    folder = Path(model_dir)
    digest = hashlib.md5()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass
class Manifest:
    """What an output folder holds; `finished` is false until every shard is written."""

    model: str  # the model folder as given
    model_md5: str
    keep: list[str] | None  # the input columns kept (None: all)
    params: dict[str, object] = field(default_factory=dict)  # runtime, precision, batch size
    finished: bool = False
    rows: int = 0
    class_counts: dict[str, int] = field(default_factory=dict)
    # each planned shard: input, output, the input's size and mtime_ns (and rows once done)
    shards: list[dict[str, object]] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        write_json(folder / MANIFEST, asdict(self))

    def check_matches(self, earlier: Manifest, folder: Path) -> None:
        """ShardError if the folder's shards came from another model or kept other columns."""
        if earlier.model_md5 != self.model_md5:
            raise ShardError(
                f"--output {folder} holds shards scored by another model ({earlier.model}, md5 "
                f"{earlier.model_md5[:12]}; this one is {self.model_md5[:12]}): choose a new "
                "output folder, or remove that one to rescore everything"
            )
        if earlier.keep != self.keep:
            raise ShardError(
                f"--output {folder} holds shards with other columns (--keep "
                f"{','.join(earlier.keep) if earlier.keep else 'all'}): give the same --keep "
                "or a new output folder"
            )


def read_manifest(folder: Path) -> Manifest | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        raw = read_json(path)
        return Manifest(**{key: raw[key] for key in ("model", "model_md5", "keep", "shards")})
    except (ValueError, KeyError, TypeError):
        raise ShardError(f"{path}: not a score manifest textclf can read") from None


def signature(source: str) -> dict[str, object]:
    """What says an input file is the one an output shard was scored from: its size and
    modification time (a remote file's version, see textclf.scale.remote)."""
    if is_remote(source):
        return remote.signature(source)
    stat = Path(source).stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def finished_outputs(earlier: Manifest | None, folder: Path) -> set[str]:
    """The output shards in `folder` that an earlier run planned and wrote from the input files
    as they are now (an input edited or replaced since is scored again)."""
    if earlier is None:
        return set()
    done = set()
    for entry in earlier.shards:
        output, source = str(entry.get("output")), str(entry.get("input"))
        try:
            current = signature(source)
        except OSError:
            continue
        same = all(entry.get(key) == value for key, value in current.items())
        if same and (folder / output).is_file():
            done.add(output)
    return done


def count_classes(predicted: list[str | None], separator: str, multi_label: bool) -> Counter:
    """Rows predicted for each class (multi-label: each of a row's labels counts)."""
    counts: Counter = Counter()
    for value in predicted:
        if value is None or value == "":
            continue
        counts.update(value.split(separator) if multi_label else [value])
    return counts
