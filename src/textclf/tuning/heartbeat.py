"""Heartbeats for `textclf search`: while a worker runs a trial it records a heartbeat in the
study every `search.heartbeat_seconds`. A running trial without one for GRACE_BEATS of them
belonged to a worker that was killed or whose machine went down: the next worker to ask for a
trial marks it failed, so it stops counting towards `search.trials` and another trial runs in
its place. Optuna beats only inside `study.optimize`; the search asks and tells its trials
itself (each one a DVC experiment), so it beats here, with Optuna's storage doing the rest."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import optuna
from optuna.storages import RDBStorage
from sqlalchemy.exc import SQLAlchemyError

GRACE_BEATS = 4


class HeartbeatStorage(RDBStorage):
    """An RDB storage (SQLite or a database server) with heartbeats on; `stale` collects the
    numbers of the trials it failed for their silence."""

    def __init__(self, url: str, seconds: int) -> None:
        self.stale: list[int] = []
        with quiet():
            super().__init__(
                url,
                heartbeat_interval=seconds,
                grace_period=GRACE_BEATS * seconds,
                heartbeat_stale_trial_callback=lambda _, trial: self.stale.append(trial.number),
            )


def fail_silent_trials(study: optuna.Study, storage: HeartbeatStorage) -> list[int]:
    """Mark failed the running trials whose worker went silent; their numbers."""
    storage.stale.clear()
    with quiet():
        optuna.storages.fail_stale_trials(study)
    return list(storage.stale)


@contextmanager
def quiet() -> Iterator[None]:
    """Without Optuna's warnings that heartbeats are experimental (since 2.9) and meant for
    `study.optimize` (`beating` records them for the trials the search asks for)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", "Heartbeat of storage is supposed", UserWarning)
        yield


def ask(study: optuna.Study, space: dict) -> optuna.Trial:
    """`study.ask(space)`, quiet about heartbeats."""
    with quiet():
        return study.ask(space)


@contextmanager
def beating(storage: HeartbeatStorage, trial_id: int, seconds: int) -> Iterator[None]:
    """Record trial `trial_id`'s heartbeat every `seconds` while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while True:
            with suppress(SQLAlchemyError):  # a busy database: one beat missed, the grace allows it
                storage.record_heartbeat(trial_id)
            if stop.wait(seconds):
                return

    thread = threading.Thread(target=beat, name=f"heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
