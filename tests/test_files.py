"""Atomic writes never destroy what a user owns: a regular file is replaced whole or kept, a
symlink keeps pointing where it did (its target gets the new content), and a FIFO or another
non-regular file is written through instead of being renamed over."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from textclf.config.files import atomic_path, write_text


def test_a_regular_file_is_replaced_whole_or_kept(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    write_text(target, "new")
    assert target.read_text() == "new"
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]


def test_a_symlink_is_kept_and_its_target_written(tmp_path):
    real = tmp_path / "real" / "labelled.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text() == "new"
    assert sorted(path.name for path in real.parent.iterdir()) == ["labelled.csv"]


def read_fifo(path: Path, into: list[str]) -> threading.Thread:
    reader = threading.Thread(target=lambda: into.append(path.read_text()), daemon=True)
    reader.start()
    return reader


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = read_fifo(fifo, received)
    write_text(fifo, "label,text\nSports,goal\n")
    reader.join(timeout=30)
    assert received == ["label,text\nSports,goal\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [path.name for path in tmp_path.iterdir()] == ["pipe"]


def test_files_of_a_folder_output_get_the_umasks_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "model", directory=True) as folder:
            # as safetensors writes model.safetensors: readable by its owner only
            os.close(os.open(folder / "model.safetensors", os.O_CREAT | os.O_WRONLY, 0o600))
            (folder / "config.json").write_text("{}")
    finally:
        os.umask(mask)
    for name in ("model.safetensors", "config.json"):
        assert stat.S_IMODE(os.stat(tmp_path / "model" / name).st_mode) == 0o644, name


def test_atomic_outputs_get_the_usual_permissions(tmp_path):
    with atomic_path(tmp_path / "out.txt") as temporary:
        temporary.write_text("x")
    with atomic_path(tmp_path / "folder", directory=True) as temporary:
        (temporary / "inside.txt").write_text("x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o777 & ~mask
