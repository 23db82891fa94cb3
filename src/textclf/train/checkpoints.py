"""Resumable training: Trainer checkpoints in a scratch folder that DVC does not manage.

A killed train stage leaves `models/checkpoints/checkpoint-<step>/` (saved every
`train.save_steps` steps and at every epoch's end, so a small run's finished epochs are kept);
the next run resumes from the newest complete one, but only if it was written for the same
params and data (a fingerprint file says so). A finished run deletes the folder, so no stale
checkpoint outlives it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from transformers import TrainerCallback

from textclf.config.files import write_json

FINGERPRINT_FILE = "fingerprint.json"
CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")


def fingerprint(settings: dict, inputs: list[Path]) -> dict:
    """What a checkpoint depends on: the settings and the md5 of each input file."""
    digests = {str(path): hashlib.md5(path.read_bytes()).hexdigest() for path in inputs}
    return {"settings": settings, "inputs": digests}


def resumable_checkpoint(folder: Path, expected: dict, prepare: bool = True) -> Path | None:
    """The newest complete checkpoint in `folder` written for `expected`, or None.

    With `prepare` (one process only, under torchrun rank 0), checkpoints of another
    configuration are deleted and `expected` is recorded, so the folder only ever holds
    checkpoints this run may resume from.
    """
    fingerprint_path = folder / FINGERPRINT_FILE
    if fingerprint_path.is_file() and json.loads(fingerprint_path.read_text()) == expected:
        complete = [
            path
            for path in folder.iterdir()
            if CHECKPOINT_NAME.match(path.name) and (path / "trainer_state.json").is_file()
        ]
        if complete:
            return max(complete, key=lambda path: int(CHECKPOINT_NAME.match(path.name)[1]))
    if prepare:
        discard(folder)
        write_json(fingerprint_path, expected)
    return None


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


class SaveAtEpochEnd(TrainerCallback):
    """A checkpoint at each epoch's end as well as every `save_steps` steps: a run whose epoch
    is shorter than `save_steps` (any small data set) would otherwise keep nothing when it is
    stopped. One checkpoint is kept (`save_total_limit`), so this costs disk time, not space."""

    def on_epoch_end(self, args, state, control, **kwargs):
        if args.save_strategy == "steps" and state.global_step % args.save_steps:
            control.should_save = True
        return control
