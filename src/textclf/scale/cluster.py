"""Ray for `textclf score`: the cluster at `--address` (or `RAY_ADDRESS`), or else one started on
this machine for the job (every core, a small object store: only shard names and counts pass
through it, the rows stay with the actors). Ray's own logs and progress bars are turned down so
that the job's progress line is what a person reads; a Ray that cannot start is one line."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

from textclf.config.errors import UserError

OBJECT_STORE_BYTES = 256 * 2**20  # a local Ray's object store: shard names and counts only
CONNECT_SECONDS = 10
ACTORS_START_SECONDS = 600  # a model copy per actor, loaded on a busy node: minutes at most


class ClusterError(UserError):
    """Ray cannot start or cannot be reached."""


@dataclass(frozen=True)
class Resources:
    cpus: int
    gpus: int
    nodes: int


def start(address: str | None) -> Resources:
    """Connect to `address` (or RAY_ADDRESS), or start Ray here; ClusterError if neither works."""
    import ray
    import ray.data

    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        check_reachable(address)
    try:
        if address:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        else:
            ray.init(
                # "local": a new instance for this job, even where `ray start` runs one here
                # (Ray would otherwise join it, unasked)
                address="local",
                object_store_memory=OBJECT_STORE_BYTES,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
    except Exception as error:  # noqa: BLE001 - Ray raises many kinds; each is one line here
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        where = f"the Ray cluster at {address}" if address else "Ray on this machine"
        raise ClusterError(
            f"{where} did not start ({type(error).__name__}{': ' + reason[:300] if reason else ''})"
        ) from None
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # the whole pool starts before the first shard is handed out, so that shards spread over
    # every actor (and node) instead of queueing at the first one up
    context.wait_for_min_actors_s = ACTORS_START_SECONDS
    total = ray.cluster_resources()
    alive = [node for node in ray.nodes() if node.get("Alive")]
    return Resources(int(total.get("CPU", 0)), int(total.get("GPU", 0)), len(alive))


def check_reachable(address: str) -> None:
    """ClusterError at once if nothing listens at a `host:port` address (Ray itself retries
    for minutes); `auto` and `ray://` addresses are left to Ray."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as error:
        raise ClusterError(
            f"the Ray cluster at {address} does not answer ({error.strerror or error}): is "
            "`ray start --head` running there, and is the port open?"
        ) from None


def stop() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()
