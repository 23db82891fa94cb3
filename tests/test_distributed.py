"""The train stage under `torchrun --nproc_per_node 2` on CPU (gloo): one model, two ranks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from conftest import command_env, fixture_params, free_port, make_project, run

pytestmark = [pytest.mark.pipeline, pytest.mark.training]


def test_two_processes_train_one_model(tmp_path, news_csvs, tiny_bert):
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["train"].update(processes=2, epochs=2, sampling="bucketed")
    project = make_project(tmp_path / "repo", overrides)
    output = run(["dvc", "repro", "train"], project).stdout

    ranks = {
        int(rank): (int(world), int(steps), digest)
        for rank, world, steps, digest in re.findall(
            r"rank (\d+)/(\d+): (\d+) steps, weights ([0-9a-f]+)", output
        )
    }
    assert set(ranks) == {0, 1}, output
    (world0, steps0, digest0), (world1, steps1, digest1) = ranks[0], ranks[1]
    assert world0 == world1 == 2
    # each rank took half of the batches, and DDP's averaged gradients kept the weights equal
    assert steps0 == steps1 == 2 * -(-432 // (16 * 2))
    assert digest0 == digest1

    assert sorted(path.name for path in (project / "models").iterdir()) == ["trained"]
    assert (project / "models/trained/model.safetensors").is_file()
    assert sorted(path.name for path in (project / "metrics").iterdir()) == [
        "data.json",
        "train.json",
        "training_curves.png",
        "validation.json",
        "validation_predictions.csv",
    ]
    train = json.loads((project / "metrics/train.json").read_text())
    assert set(train["epochs"]) == {"epoch_1", "epoch_2"}
    assert "Data and pipelines are up to date" in run(["dvc", "status", "train"], project).stdout


def test_a_worker_error_is_one_line_not_a_torchrun_report(tmp_path, news_csvs, tiny_bert):
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["train"].update(processes=2)
    project = make_project(tmp_path / "repo", overrides)  # nothing tokenized yet
    result = run([sys.executable, "-m", "textclf.stages.train"], project, check=False)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: data/tokenized/train: no tokenized shards (run `dvc repro`, or `dvc pull`)"
    ], result.stderr
    assert not (project / "models").exists()


def test_two_machines_rendezvous_over_c10d(tmp_path, news_csvs, tiny_bert):
    """README "many machines": the train stage started by torchrun on each of 2 "nodes" (two
    copies of the project, 1 process each) meeting at a c10d rendezvous on 127.0.0.1."""
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["train"].update(epochs=1)
    nodes = [make_project(tmp_path / "node0", overrides)]
    run(["dvc", "repro", "tokenize"], nodes[0])
    # the second machine: a clone with the tokenized data (`dvc pull tokenize` in the README)
    nodes.append(tmp_path / "node1")
    shutil.copytree(nodes[0], nodes[1], symlinks=True)
    endpoint = f"127.0.0.1:{free_port()}"
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2"]
            + ["--node-rank", str(rank), "--nproc-per-node", "1", "--rdzv-backend", "c10d"]
            + ["--rdzv-endpoint", endpoint, "--rdzv-id", "textclf-test"]
            + ["-m", "textclf.stages.train"],
            cwd=node,
            env={**command_env(), "OMP_NUM_THREADS": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for rank, node in enumerate(nodes)
    ]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    reports = [
        re.findall(r"rank (\d+)/(\d+): (\d+) steps, weights ([0-9a-f]+)", stdout)
        for stdout, _ in outputs
    ]
    assert sorted(int(found[0][0]) for found in reports) == [0, 1], outputs
    (_, world0, steps0, digest0), (_, world1, steps1, digest1) = (r[0] for r in reports)
    assert world0 == world1 == "2"
    assert steps0 == steps1 == str(-(-432 // (16 * 2)))  # each node took half of every batch
    assert digest0 == digest1  # gradients all-reduced across the "machines"
    # only the machine of rank 0 writes the outputs; `dvc commit` there records them
    writer = nodes[[int(r[0][0]) for r in reports].index(0)]
    trained = [(node / "models/trained/model.safetensors").is_file() for node in nodes]
    assert trained == [node == writer for node in nodes]
    run(["dvc", "commit", "--force", "train"], writer)
    assert "Data and pipelines are up to date" in run(["dvc", "status", "train"], writer).stdout
