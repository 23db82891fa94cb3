"""A `textclf score` job: plan the shards, check them, skip those a crashed run finished, then
Ray Data: the pending shards -> `map_batches` on a pool of ShardScorer actors (each loads the
model once and writes its shards) -> their counts, streamed back to the driver as each shard is
done; at the end the manifest. Exactly once: a shard is written under a temporary name and
renamed whole, so after a crash or SIGKILL a rerun scores only the shards with no output yet."""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from tqdm.auto import tqdm

from textclf.config.files import remove_stale_temporaries
from textclf.scale import cluster
from textclf.scale.actors import ShardScorer
from textclf.scale.manifest import (
    MANIFEST,
    Manifest,
    count_classes,
    fingerprint,
    finished_outputs,
    read_manifest,
    signature,
)
from textclf.scale.schemas import input_columns
from textclf.scale.shards import Shard, ShardError, check_apart, plan
from textclf.ship.runtime import load


@dataclass(frozen=True)
class ScoreOptions:
    model: str
    input: str
    output: str
    keep: list[str] | None = None  # None: every input column
    actors: int | None = None  # None: one per CPU (per GPU for a transformer on GPUs)
    batch_size: int = 64
    shard_rows: int = 1_000_000
    address: str | None = None
    runtime: str = "auto"
    precision: str = "auto"


@dataclass
class Summary:
    rows: int = 0  # scored by this run
    total_rows: int = 0  # in the whole output folder
    shards: int = 0
    skipped: int = 0
    seconds: float = 0.0
    nodes: set[str] = field(default_factory=set)
    shard_rows: dict[str, int] = field(default_factory=dict)  # this run's, by output name
    class_counts: Counter = field(default_factory=Counter)


def score(options: ScoreOptions) -> Summary:
    started = time.perf_counter()
    output = Path(options.output)
    # loaded here once, so that a folder that is no model fails before Ray starts
    classifier = load(options.model, options.runtime)
    settings, classes, multi_label = classifier.settings, classifier.classes, classifier.multi_label
    static = classifier.runtime == "static"  # NumPy on CPUs, never a GPU actor
    del classifier
    shards = plan(options.input, options.shard_rows)
    check_apart(output, options.input, sorted({shard.source for shard in shards}))
    empty_schema = input_columns(shards, settings)
    this_run = Manifest(options.model, fingerprint(options.model), options.keep)
    this_run.params = {
        key: getattr(options, key) for key in ("runtime", "precision", "batch_size", "shard_rows")
    }
    this_run.shards = [
        {"input": shard.source, "output": shard.output, **signature(shard.source)}
        for shard in shards
    ]
    finished = finished_outputs(check_output_folder(output, this_run), output)
    for shard in shards:
        remove_stale_temporaries(output / shard.output)
    pending = [shard for shard in shards if shard.output not in finished]
    summary = Summary(shards=len(shards), skipped=len(shards) - len(pending))
    if summary.skipped:
        print(f"{summary.skipped} of {len(shards)} shards already scored: skipping them")
    resources = cluster.start(options.address) if pending else None
    try:
        output.mkdir(parents=True, exist_ok=True)
        for shard in pending:  # an output of an input edited since: the manifest below no
            (output / shard.output).unlink(missing_ok=True)  # longer vouches for it
        this_run.write(output)  # before any shard: a rerun with another model is refused
        if resources is not None:
            run_on_ray(pending, options, resources, static, empty_schema, summary)
    finally:
        cluster.stop()
    summary.seconds = time.perf_counter() - started
    finish(output, this_run, summary, settings.label_separator, multi_label, classes)
    return summary


def check_output_folder(output: Path, this_run: Manifest) -> Manifest | None:
    """The earlier run's manifest, if the output folder is one of the same model and columns;
    None if it is new or empty; a folder of other files is refused (a shard's name could be
    one of them)."""
    if output.exists() and not output.is_dir():
        raise ShardError(f"--output {output} is a file: give a folder for the shards")
    earlier = read_manifest(output) if output.is_dir() else None
    if earlier is not None:
        this_run.check_matches(earlier, output)
    elif output.is_dir() and any(output.iterdir()):
        raise ShardError(
            f"--output {output} holds files that no score run wrote (no {MANIFEST}): give a new "
            "or empty folder"
        )
    return earlier


def run_on_ray(
    pending: list[Shard],
    options: ScoreOptions,
    resources: cluster.Resources,
    static: bool,
    empty_schema: list[str],
    summary: Summary,
) -> None:
    import ray.data
    import ray.exceptions

    on_gpu = resources.gpus > 0 and not static
    slots = resources.gpus if on_gpu else max(1, resources.cpus)
    actors = min(options.actors or slots, slots, len(pending))
    with warnings.catch_warnings():
        # max_restarts has no named parameter in Ray 2.60 (the pinned one): 0, because an
        # actor with restarts makes Ray log a false alarm about its arguments (ray#57733);
        # a lost actor fails the job, and a rerun resumes it
        warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated")
        dataset = ray.data.from_items(
            [shard.as_row() for shard in pending], override_num_blocks=len(pending)
        ).map_batches(
            ShardScorer,
            fn_constructor_kwargs={
                "model": str(Path(options.model).resolve()),
                "runtime": options.runtime,
                "output": str(Path(options.output).resolve()),
                "batch_size": options.batch_size,
                "precision": options.precision,
                "keep": options.keep,
                "empty_schema": empty_schema,
            },
            batch_size=1,
            # one shard at a time per actor: a shard is minutes of work, and a queue at one
            # actor would keep it from an idle one
            compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
            num_cpus=1,
            num_gpus=1 if on_gpu else 0,
            max_restarts=0,
        )
    where = f"{actors} {'GPU' if on_gpu else 'CPU'} actors on {resources.nodes} node(s)"
    print(f"scoring {len(pending)} shards with {where}", file=sys.stderr, flush=True)
    try:
        collect(dataset, len(pending), summary)
    except ray.exceptions.GetTimeoutError:
        raise cluster.ClusterError(
            f"{actors} actors did not start within {cluster.ACTORS_START_SECONDS} s: the "
            "cluster lacks the CPUs, GPUs or memory they ask for (see --actors)"
        ) from None


def collect(dataset: object, pending: int, summary: Summary) -> None:
    """Each finished shard's counts into `summary`, with a progress bar; the first shard that
    failed stops the job as one ShardError."""
    started = time.perf_counter()
    with tqdm(total=pending, unit="shard", file=sys.stderr, mininterval=2) as bar:
        for answer in dataset.iter_rows():
            if answer["error"]:
                raise ShardError(answer["error"])
            summary.rows += int(answer["rows"])
            summary.shard_rows[answer["output"]] = int(answer["rows"])
            summary.class_counts.update(json.loads(answer["class_counts"]))
            summary.nodes.add(answer["node"])
            rate = summary.rows / max(time.perf_counter() - started, 1e-9)
            bar.set_postfix_str(f"{summary.rows:,} rows, {rate:,.0f} texts/s", refresh=False)
            bar.update(1)


def finish(
    output: Path,
    this_run: Manifest,
    summary: Summary,
    separator: str,
    multi_label: bool,
    classes: list[str],
) -> None:
    """The manifest of the whole folder: every shard's rows, and the class counts over all of
    them (a skipped shard's read back from its `predicted` column)."""
    counts: Counter = Counter(dict.fromkeys(classes, 0))
    counts.update(summary.class_counts)
    for entry in this_run.shards:
        rows = summary.shard_rows.get(str(entry["output"]))
        if rows is None:  # scored by an earlier run
            table = pq.read_table(output / str(entry["output"]), columns=["predicted"])
            counts.update(count_classes(table["predicted"].to_pylist(), separator, multi_label))
            rows = table.num_rows
        entry["rows"] = rows
    this_run.rows = summary.total_rows = sum(int(entry["rows"]) for entry in this_run.shards)
    this_run.class_counts = dict(counts)
    summary.class_counts = counts
    this_run.finished = True
    this_run.write(output)
