"""What a study's trials are comparable on, recorded in the study itself (shared by every
worker): the metric, its direction, and the validation rows the trials were scored on. A
search with another metric or direction on the study is refused before any trial; a trial
whose validation rows differ (the data, the split or prepare's params changed) is failed with
one line, and such trials already in a study are kept off the ranking, not mixed into it."""

from __future__ import annotations

import hashlib
import json

import optuna
import pandas as pd
from optuna.trial import FrozenTrial

from textclf.config.errors import UserError
from textclf.config.search_params import SearchParams

RANKED_ON = "ranked_on"  # study attribute: {"metric": ..., "lower_is_better": ...}
VALIDATION = "validation"  # study and trial attribute: the validation rows' fingerprint


def check_ranking(study: optuna.Study, search: SearchParams) -> None:
    """Record the study's metric and direction on first use; refuse a search that ranks on
    another one (a study from before they were recorded: by its Optuna direction)."""
    wanted = {"metric": search.metric, "lower_is_better": search.lower_is_better}
    minimises = study.direction == optuna.study.StudyDirection.MINIMIZE
    recorded = study.user_attrs.get(
        RANKED_ON, {"metric": search.metric, "lower_is_better": minimises}
    )
    if recorded != wanted:
        raise UserError(
            f"search.metric {describe(wanted)}: study {study.study_name} ranks its trials on "
            f"{describe(recorded)}; set search.metric back, or name a new search.study"
        )
    if RANKED_ON not in study.user_attrs:
        study.set_user_attr(RANKED_ON, wanted)


def describe(ranking: dict) -> str:
    return f"{ranking['metric']} ({'lower' if ranking['lower_is_better'] else 'higher'} is better)"


def validation_fingerprint(predictions: pd.DataFrame, classes: list[str]) -> str:
    """The validation rows a trial was scored on (texts, labels, classes), as a short hash."""
    rows = [predictions["text"].tolist(), predictions["label"].tolist(), classes]
    return hashlib.sha256(json.dumps(rows).encode("utf-8")).hexdigest()[:16]


def claim_validation(study: optuna.Study, fingerprint: str, experiment: str) -> None:
    """The first finished trial sets the study's validation rows; UserError for a later trial
    scored on other rows."""
    recorded = study.user_attrs.get(VALIDATION)
    if recorded is None:
        study.set_user_attr(VALIDATION, fingerprint)
    elif recorded != fingerprint:
        raise UserError(
            f"{experiment} was scored on other validation rows than study "
            f"{study.study_name}'s trials (the data, the split or prepare's params changed "
            "since), so their metrics cannot be ranked together; name a new search.study"
        )


def comparable_trials(study: optuna.Study, finished: list[FrozenTrial]) -> list[FrozenTrial]:
    """The finished trials scored on the study's validation rows: by the recorded fingerprint,
    or (trials from before it was recorded) by the first trial's labels and classes."""
    recorded = study.user_attrs.get(VALIDATION)
    fingerprinted = [t for t in finished if t.user_attrs.get(VALIDATION) == recorded]
    if recorded is not None and fingerprinted:
        return fingerprinted
    if not finished:
        return []
    first = finished[0].user_attrs
    keys = ("labels", "classes")
    return [t for t in finished if all(t.user_attrs.get(k) == first.get(k) for k in keys)]
