"""Every documented `train.report_to` value trains, and every tracker's files outlive the stage."""

from __future__ import annotations

import pytest
from conftest import fixture_params, make_project, run

pytestmark = [pytest.mark.pipeline, pytest.mark.training]


@pytest.fixture(scope="module")
def project(tmp_path_factory, news_csvs, tiny_bert):
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["train"].update(epochs=1)
    folder = make_project(tmp_path_factory.mktemp("trackers") / "repo", overrides)
    run(["dvc", "repro", "tokenize"], folder)
    return folder


def test_no_tracker_at_all(project):
    result = run(["dvc", "exp", "run", "-S", "train.report_to=[]", "train"], project)
    assert "is empty" not in result.stdout + result.stderr
    assert (project / "models/trained/model.safetensors").is_file()
    # a note each, not empty folders, which DVC warns about on every run
    assert [path.name for path in (project / "dvclive/train").iterdir()] == ["README.md"]
    assert [path.name for path in (project / "logs/train").iterdir()] == ["README.md"]
    assert "Data and pipelines are up to date" in run(["dvc", "status", "train"], project).stdout


def test_tensorboard_beside_dvclive_keeps_its_event_files(project):
    run(["dvc", "exp", "run", "-S", "train.report_to=[dvclive,tensorboard]", "train"], project)
    events = list((project / "logs/train/tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    assert (project / "dvclive/train/plots/metrics/loss.tsv").is_file()
    assert not (project / "models/checkpoints").exists()
    # the logs are outputs: in the DVC cache, restored like any other
    for folder in ("logs/train", "dvclive/train"):
        run(["rm", "-r", folder], project)
    run(["dvc", "checkout", "train"], project)
    assert list((project / "logs/train/tensorboard").glob("events.out.tfevents.*")) == events
