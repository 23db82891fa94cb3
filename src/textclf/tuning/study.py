"""The search's Optuna study: opened at `search.storage` (a relative SQLite path taken from the
project's root), created on first use and continued after, with the search's sampler and
pruner, and refused when it ranks on another metric than `search.metric`."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from textclf.config.errors import UserError
from textclf.config.files import redact, without_password
from textclf.config.search_params import SearchParams
from textclf.tuning.comparability import check_ranking
from textclf.tuning.heartbeat import HeartbeatStorage
from textclf.tuning.pruning import median_pruner
from textclf.tuning.sampler import TrialSeededSampler

OPEN_ATTEMPTS = 6


def storage_url(search: SearchParams, repo: Path) -> str:
    """`search.storage`, a relative SQLite path taken from the project's root."""
    prefix = "sqlite:///"
    url = search.storage
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = (repo / url[len(prefix) :]).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return url


def storage_error(storage: str, reason: str) -> UserError:
    """One line naming `search.storage`, its password (in the URL or the reason) hidden."""
    return UserError(f"search.storage {redact(storage)}: {without_password(reason, storage)}")


def open_study(search: SearchParams, repo: Path) -> tuple[optuna.Study, HeartbeatStorage]:
    """The study named `search.study`, created on first use and continued after, and its
    storage. Workers that start together race to create the storage's tables: the loser
    retries and joins."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_url(search, repo)
    for attempt in range(OPEN_ATTEMPTS):
        try:
            storage = HeartbeatStorage(url, search.heartbeat_seconds)
            study = optuna.create_study(
                storage=storage,
                study_name=search.study,
                sampler=TrialSeededSampler(search.seed),
                pruner=median_pruner() if search.prune else optuna.pruners.NopPruner(),
                direction="minimize" if search.lower_is_better else "maximize",
                load_if_exists=True,
            )
            check_ranking(study, search)
            return study, storage
        except (ValueError, ImportError, ArgumentError) as error:  # not a URL Optuna can open
            raise storage_error(search.storage, str(error)) from None
        except SQLAlchemyError as error:
            if attempt == OPEN_ATTEMPTS - 1:
                raise storage_error(search.storage, str(error).strip().splitlines()[0]) from None
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")
