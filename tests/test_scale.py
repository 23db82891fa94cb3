"""Bounded-memory data stages: prepare's streamed split is the notebook's, tokenize writes the
same shards whatever its process count, train reads them memory-mapped, and the baseline can cap
its rows."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import digests, fixture_params, make_project, repro, run, update_params
from sklearn.model_selection import train_test_split

pytestmark = pytest.mark.pipeline


def test_prepare_streams_the_notebooks_split(tmp_path, news_csvs, tiny_bert):
    with news_csvs["train"].open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    # a test file that repeats 20 train rows: metrics/data.json counts those in the train split
    with news_csvs["test"].open(newline="", encoding="utf-8") as file:
        test_rows = list(csv.reader(file)) + rows[:20]
    test_csv = tmp_path / "test.csv"
    with test_csv.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file, quoting=csv.QUOTE_ALL).writerows(test_rows)
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["data"]["test_url"] = str(test_csv)
    project = make_project(tmp_path / "repo", overrides)
    repro(project, "prepare")
    texts = [f"{title} {description}".replace("\\", " ") for _, title, description in rows]
    labels = [int(label) - 1 for label, _, _ in rows]
    train, validation = train_test_split(
        np.arange(len(rows)), test_size=0.1, random_state=1122, stratify=labels
    )
    for split, expected in (("train", train), ("validation", validation)):
        written = pq.read_table(project / f"data/prepared/{split}.parquet").to_pydict()
        assert written["text"] == [texts[i] for i in sorted(expected)]
        assert written["label"] == [labels[i] for i in sorted(expected)]
    test_texts = {f"{t} {d}".replace("\\", " ") for _, t, d in test_rows}
    in_test = sum(texts[i] in test_texts for i in train)
    assert in_test >= 10  # most of the 20 repeated rows are train rows, not validation rows
    report = json.loads((project / "metrics/data.json").read_text())
    assert report["train_test_overlap"] == in_test


def test_tokenize_shards_are_the_same_bytes_for_any_num_proc_and_train_reads_them_mapped(
    tmp_path, news_csvs, tiny_bert, monkeypatch
):
    from textclf.data.tokenized import load_dataset, read_tokenized

    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["tokenize"].update(num_proc=1, shard_rows=100)
    project = make_project(tmp_path / "repo", overrides)
    assert repro(project, "tokenize") == {"code", "download", "prepare", "tokenize"}
    one_process = digests(project / "data/tokenized")
    for split in ("train", "validation", "test"):
        rows = pq.ParquetFile(project / f"data/prepared/{split}.parquet").metadata.num_rows
        shards = sorted((project / "data/tokenized" / split).iterdir())
        assert [path.name for path in shards] == [
            f"{split}-{index:05d}.parquet" for index in range(math.ceil(rows / 100))
        ]
        table = pq.read_table(project / "data/tokenized" / split)
        assert sorted(table.column("document").to_pylist()) == list(range(rows))

    overrides["tokenize"]["num_proc"] = 2
    update_params(project, overrides)
    assert repro(project, "tokenize") == set()  # num_proc is not a dependency of the output
    run(["python", "-m", "textclf.stages.tokenize"], project)  # ... and does not change it
    assert digests(project / "data/tokenized") == one_process

    # the train stage's view: every shard, memory-mapped from a copy outside the repository
    monkeypatch.chdir(project)
    dataset = load_dataset("train")
    assert isinstance(dataset.data, datasets.table.MemoryMappedTable)
    assert all(project not in Path(f["filename"]).parents for f in dataset.cache_files)
    whole = pq.read_table(project / "data/tokenized/train")
    assert dataset.num_rows == whole.num_rows == 432
    assert dataset[350]["input_ids"] == whole.column("input_ids")[350].as_py()
    assert read_tokenized("train", ["document"], max_rows=170).num_rows == 170
    # the copy is gone when the process ends
    script = (
        "from textclf.data.tokenized import load_dataset; print(load_dataset('train').cache_files)"
    )
    printed = run(["python", "-c", script], project).stdout
    copy = Path(printed.split("'filename': '")[1].split("'")[0])
    assert copy.name == "train.arrow" and not copy.parent.exists()

    # and the train stage trains from those shards, for train.max_steps steps
    overrides["train"]["max_steps"] = 3
    update_params(project, overrides)
    output = run(["python", "-m", "textclf.stages.train"], project).stdout
    assert "rank 0/1: 3 steps" in output


def test_baseline_max_train_rows_is_a_stated_seeded_subset(tmp_path, news_csvs, tiny_bert):
    overrides = fixture_params(news_csvs, tiny_bert)
    overrides["baseline"] = {"max_train_rows": 100}
    project = make_project(tmp_path / "repo", overrides)
    repro(project, "baseline")
    metrics = json.loads((project / "metrics/baseline/test.json").read_text())
    assert metrics["train_rows"] == 100
    assert metrics["train_rows_available"] == 432
    assert metrics["accuracy"] > 0.5  # still learns the topic words (chance: 0.25)


def test_num_proc_null_is_one_process_per_core_and_batch():
    from textclf.data.tokenization import BATCH_ROWS, process_count

    cores = os.cpu_count() or 1
    assert process_count(None, 480) == 1  # one batch: no process to start
    assert process_count(None, 100 * BATCH_ROWS) == cores
    assert process_count(None, 2 * BATCH_ROWS + 1) == min(cores, 3)
    assert process_count(3, 10) == 3  # a number is taken as it is
