"""What the `textclf score` tests share: tiny model folders (a classifier, its static
student), archives of CSV shards, the command, and the check that a scored shard holds exactly
`predict`'s answers."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch
from conftest import command_env
from fixtures import CLASSES, news_rows
from transformers import AutoTokenizer

from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.modeling.loading import load_model_for_training
from textclf.predict import classify, read_input
from textclf.ship.runtime import checkpoint_settings

SETTINGS = CheckpointSettings(columns=["label", "title", "description"])


def saved_classifier(folder: Path, tiny_bert: Path, multi_label: bool = False) -> Path:
    """An (untrained) classifier saved as the train stage saves one, with its text settings."""
    torch.manual_seed(0)
    model = load_model_for_training(str(tiny_bert), CLASSES, multi_label)
    model.config.textclf = SETTINGS.to_config()
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


def static_student(folder: Path, teacher: Path) -> Path:
    """A static student of `teacher`, its head random: the tests compare two ways of computing
    the same scores, not their quality."""
    from textclf.distill.static_student import Head, distill_embeddings, save_static_student

    static = distill_embeddings(teacher, pca_dims=16)
    torch.manual_seed(0)
    head = Head(static.embedding.shape[1], len(CLASSES))
    config = {
        "num_labels": len(CLASSES),
        "id2label": {str(i): name for i, name in enumerate(CLASSES)},
        "textclf": SETTINGS.to_config(),
    }
    save_static_student(folder, static, head, config, hidden=0)
    return folder


def csv_shards(folder: Path, shards: int, rows: int, header: bool = False) -> Path:
    """`shards` CSV files of AG-News-shaped rows: header-less (the training data's layout), or
    with a header and an `id` column numbering every row of the archive."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(shards):
        chosen = news_rows(rows, seed=100 + number)
        with (folder / f"part-{number:02d}.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            if header:
                writer.writerow(["id", "title", "description"])
                writer.writerows(
                    [number * rows + i, title, text] for i, (_, title, text) in enumerate(chosen)
                )
            else:
                writer.writerows(chosen)
    return folder


def score(*args: object, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "textclf.score", *map(str, args)],
        capture_output=True,
        text=True,
        env={**command_env(), **env},
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def assert_equals_predict(output: Path, source: Path, model: Path) -> None:
    """The output shard holds the input's columns, then exactly `predict`'s answers."""
    scored = pd.read_parquet(output)
    frame, texts = read_input(str(source), checkpoint_settings(model))
    expected = classify(texts, str(model))
    assert list(scored.columns) == [*frame.columns, *expected.columns]
    assert scored["predicted"].tolist() == expected["predicted"].tolist()
    for column in expected.columns[1:]:
        assert (scored[column] - expected[column]).abs().max() <= 1e-6, column
    for column in frame.columns:
        assert scored[column].astype(str).tolist() == frame[column].astype(str).tolist()
