"""The Ray Data actor of `textclf score`: it loads the model folder once, then scores each shard
it is handed (see textclf.scale.scorer) and answers with the shard's counts. A bad shard or model
folder comes back as an `error` value, not as a task failure, so that the driver reports it in
one line (Ray would print the actor's traceback)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from textclf.config.errors import UserError
from textclf.scale.scorer import ShardResult, score_shard
from textclf.scale.shards import Shard
from textclf.ship.runtime import load

RESULT_COLUMNS = ("output", "rows", "class_counts", "seconds", "node", "error")


class ShardScorer:
    def __init__(
        self,
        model: str,
        runtime: str,
        output: str,
        batch_size: int,
        precision: str,
        keep: list[str] | None,
        empty_schema: list[str],
    ) -> None:
        self.output, self.keep, self.empty_schema = Path(output), keep, empty_schema
        self.batch_size, self.precision = batch_size, precision
        self.node = node_id()
        try:
            self.classifier, self.failure = load(model, runtime), ""
        except UserError as error:
            self.classifier, self.failure = None, str(error)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        answers: dict[str, list] = {name: [] for name in RESULT_COLUMNS}
        for index in range(len(batch["source"])):
            shard = Shard.from_row({key: batch[key][index] for key in batch})
            result, error = ShardResult(shard.output, 0, Counter(), 0.0), self.failure
            if not error:
                try:
                    result = score_shard(
                        shard,
                        self.output,
                        self.classifier,
                        self.batch_size,
                        self.precision,
                        self.keep,
                        self.empty_schema,
                    )
                except UserError as failure:
                    error = str(failure)
            answers["output"].append(result.output)
            answers["rows"].append(result.rows)
            answers["class_counts"].append(json.dumps(dict(result.class_counts)))
            answers["seconds"].append(result.seconds)
            answers["node"].append(self.node)
            answers["error"].append(error)
        return answers


def node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()
