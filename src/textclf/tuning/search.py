"""The recipe search behind `textclf search`: an Optuna study (TPE, seeded, stored at
`search.storage` so that a rerun continues it and several machines can share it) proposes
`search.space` values; each trial is a DVC experiment through the train stage; the winner is
chosen on the validation split only, optionally on the mean of several seeds."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from textclf.config.errors import UserError
from textclf.config.paths import SEARCH_LOG_DIR
from textclf.config.search_params import SearchParams
from textclf.tuning.comparability import (
    VALIDATION,
    claim_validation,
    comparable_trials,
    validation_fingerprint,
)
from textclf.tuning.heartbeat import ask, beating, fail_silent_trials
from textclf.tuning.leaderboard import (
    COMPLETE,
    INCOMPARABLE,
    Board,
    Entry,
    build_board,
    render_board,
)
from textclf.tuning.pruning import trial_environment
from textclf.tuning.search_space import distributions, overrides
from textclf.tuning.stored_trials import checked_rerun, checked_values, experiment_name
from textclf.tuning.study import open_study, storage_url
from textclf.tuning.trials import TrialError, TrialResult, read_trial, run_experiment

COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
MAX_FAILURES_IN_A_ROW = 3
SEED_KEY = "train.seed"


@dataclass
class Search:
    repo: Path
    search: SearchParams
    train_seed: int
    trials: int
    timeout: float | None = None  # seconds after which no new trial starts (Optuna's timeout)
    # flushed: piped to a log or a CI console, progress must not wait for the buffer
    say: Callable[[str], None] = functools.partial(print, flush=True)

    def __post_init__(self) -> None:
        self.study, self.storage = open_study(self.search, self.repo)
        self.started = time.monotonic()
        self.ran = 0

    def trials_so_far(self) -> int:
        """Trials the study counts towards `search.trials` (finished, pruned or running)."""
        return len(self.study.get_trials(states=COUNTED))

    def run_trials(self) -> None:
        """Trials until the study has `trials` of them (this worker's and others')."""
        space = distributions(self.search.space)
        failures = 0  # failed trials do not count towards `trials`: a broken setup must stop
        while True:
            for number in fail_silent_trials(self.study, self.storage):
                silence = self.storage.grace_period
                self.say(f"trial {number}: its worker sent no heartbeat for {silence} s: failed")
            if (done := self.trials_so_far()) >= self.trials:
                break
            elapsed = time.monotonic() - self.started
            if self.timeout is not None and elapsed >= self.timeout:
                self.say(f"--timeout: {elapsed:.0f} s have passed, so no new trial starts")
                break
            trial = ask(self.study, space)
            name = f"{self.search.study}-{trial.number}"
            values = {key: trial.params[key] for key in space}
            self.say(f"trial {done + 1}/{self.trials}: {name} {format_values(values)}")
            try:
                # the train stage reports to this trial by its storage id (pruning)
                with beating(self.storage, trial._trial_id, self.search.heartbeat_seconds):
                    result = self.run_one(name, values, trial=trial._trial_id)
                value = self.metric_of(result)
            except TrialError as error:
                (frozen,) = [t for t in self.study.get_trials() if t.number == trial.number]
                pruned = frozen.user_attrs
                if "pruned_at_epoch" in pruned:
                    self.study.tell(trial, state=TrialState.PRUNED)
                    self.say(f"  pruned after epoch {pruned['pruned_at_epoch']}")
                else:
                    self.study.tell(trial, state=TrialState.FAIL)
                    self.say(f"  failed: {error}")
                    failures += 1
                    if failures == MAX_FAILURES_IN_A_ROW:
                        message = f"{failures} trials in a row failed, the last: {error}"
                        raise UserError(message) from None
                continue
            except BaseException:  # Ctrl-C or a bad metric: finished trials stay, this one failed
                self.study.tell(trial, state=TrialState.FAIL)
                raise
            try:
                record(trial, result, self.search.metric)
            except UserError:  # scored on other validation rows than the study's trials
                self.study.tell(trial, state=TrialState.FAIL)
                raise
            self.study.tell(trial, value)
            failures = 0
            self.ran += 1
            self.say(self.progress(done + 1, result.seconds))

    def run_one(
        self, name: str, values: dict, seed: int | None = None, trial: int | None = None
    ) -> TrialResult:
        """Experiment `name` with `values` (and `seed`); with pruning on, the train stage
        reports each epoch to study trial `trial`."""
        arguments = overrides(values)
        if seed is not None:
            arguments += ["-S", f"train.seed={seed}"]
        environment = None
        if self.search.prune and trial is not None:
            storage = storage_url(self.search, self.repo)
            environment = trial_environment(storage, self.search.study, trial, self.search.metric)
        start = time.monotonic()
        log = self.repo / SEARCH_LOG_DIR / f"{name}.log"
        run_experiment(self.repo, name, arguments, log, environment, report=self.say)
        return read_trial(self.repo, name, time.monotonic() - start)

    def metric_of(self, result: TrialResult) -> float:
        metric = self.search.metric
        if metric not in result.metrics:
            found = ", ".join(key for key in result.metrics if key.startswith("eval_"))
            raise UserError(
                f"search.metric {metric} is not in metrics/train.json of {result.name} "
                f"(it has: {found})"
            )
        return result.metrics[metric]

    def progress(self, done: int, seconds: float) -> str:
        elapsed = time.monotonic() - self.started
        left = max(self.trials - done, 0) * elapsed / max(self.ran, 1)
        board = self.board()
        return f"  {seconds:.0f} s; {elapsed:.0f} s so far, about {left:.0f} s left\n" + indent(
            render_board(board)
        )

    def rerun_seeds(self, seeds: int) -> None:
        """The best `search.top` configurations rerun with `seeds` seeds in all (train.seed,
        train.seed + 1, ...); each rerun is an experiment named `<trial>-seed<k>`. Where
        `train.seed` is searched, the trial's own seed is the first of them."""
        for entry in self.board().entries[: self.search.top]:
            if entry.state != COMPLETE:
                continue
            values = {key: v for key, v in entry.values.items() if key != SEED_KEY}
            first_seed = int(entry.values.get(SEED_KEY, self.train_seed))
            for k in range(1, seeds):
                name = f"{entry.experiment}-seed{k}"
                if name in self.study.user_attrs:
                    continue
                self.say(f"seed rerun: {name} (train.seed {first_seed + k})")
                result = self.run_one(name, values, seed=first_seed + k)
                self.study.set_user_attr(
                    name,
                    {
                        "of": entry.experiment,
                        "value": self.metric_of(result),
                        "predicted": result.predictions["predicted"].tolist(),
                        "seconds": result.seconds,
                    },
                )

    def board(self) -> Board:
        """Every trial of the study (any worker's), with its seed reruns."""
        reruns: dict[str, list[dict]] = {}
        for attrs in self.study.user_attrs.values():
            if isinstance(attrs, dict) and isinstance(attrs.get("of"), str):
                reruns.setdefault(attrs["of"], []).append(attrs)
        trials = self.study.get_trials(deepcopy=False)
        finished = [trial for trial in trials if trial.state == TrialState.COMPLETE]
        ranked = {trial.number for trial in comparable_trials(self.study, finished)}
        entries, labels, classes = [], [], []
        for trial in trials:
            if trial.state == TrialState.RUNNING:
                continue
            name = experiment_name(trial, self.search)
            values = checked_values(trial, self.search)
            if trial.state != TrialState.COMPLETE:
                entries.append(Entry(name, values, trial.state.name.lower()))
                continue
            if trial.number not in ranked:  # scored on other validation rows: not ranked
                entries.append(Entry(name, values, INCOMPARABLE))
                continue
            labels, classes = trial.user_attrs["labels"], trial.user_attrs["classes"]
            runs = [{"value": trial.value, "predicted": trial.user_attrs["predicted"]}]
            runs += [run for run in reruns.get(name, []) if checked_rerun(run, len(labels))]
            entries.append(
                Entry(
                    name,
                    values,
                    COMPLETE,
                    [run["value"] for run in runs],
                    [run["predicted"] for run in runs],
                    trial.user_attrs.get("seconds", 0.0),
                )
            )
        lower = self.search.lower_is_better
        return build_board(entries, self.search.metric, lower, labels, classes)


def record(trial: optuna.Trial, result: TrialResult, metric: str) -> None:
    """What the leaderboard and the pruner need of a trial, kept in the study (shared by
    every worker): its per-epoch validation metric too, which the train stage reports itself
    only when it runs (not when DVC restores it from the run-cache). UserError if the trial
    was scored on other validation rows than the study's."""
    classes = [column[2:] for column in result.predictions.columns if column.startswith("p_")]
    fingerprint = validation_fingerprint(result.predictions, classes)
    claim_validation(trial.study, fingerprint, result.name)
    trial.set_user_attr(VALIDATION, fingerprint)
    (frozen,) = [t for t in trial.study.get_trials() if t.number == trial.number]
    for name, scores in result.metrics.get("epochs", {}).items():
        epoch = round(float(name.removeprefix("epoch_")))
        if metric in scores and epoch not in frozen.intermediate_values:
            trial.report(scores[metric], step=epoch)
    trial.set_user_attr("experiment", result.name)
    trial.set_user_attr("seconds", round(result.seconds, 1))
    trial.set_user_attr("labels", result.predictions["label"].tolist())
    trial.set_user_attr("predicted", result.predictions["predicted"].tolist())
    trial.set_user_attr("classes", classes)


def format_values(values: dict) -> str:
    return ", ".join(
        f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in values.items()
    )


def indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
