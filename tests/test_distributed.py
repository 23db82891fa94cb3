"""The train stage under `torchrun --nproc_per_node 2` on CPU (gloo): one model, two ranks."""

from __future__ import annotations

import json
import re
import sys

from conftest import fixture_params, make_project, run


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
        "error: data/tokenized/train.parquet: file not found (run `dvc repro`, or `dvc pull`)"
    ], result.stderr
    assert not (project / "models").exists()
