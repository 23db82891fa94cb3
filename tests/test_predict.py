import numpy as np
import pandas as pd
import pytest
from fixtures import CLASSES
from transformers import AutoTokenizer, pipeline

from textclf.model import load_model_for_training
from textclf.predict import classify, main

TEXTS = [
    "Shares profit market",
    "Coach striker goal season playoff tournament medal stadium after the match",
    "Software",
    "Election minister troops",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tiny_bert):
    """An (untrained) classifier saved as the train stage saves one."""
    folder = tmp_path_factory.mktemp("checkpoint")
    load_model_for_training(str(tiny_bert), CLASSES).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


def test_classify_matches_transformers_pipeline(checkpoint):
    """Length-sorted batching with padding must not change any answer."""
    result = classify(TEXTS, str(checkpoint), batch_size=3, precision="fp32")
    reference = pipeline("text-classification", model=str(checkpoint), device="cpu", top_k=None)
    for row, scores in zip(result.to_dict("records"), reference(TEXTS), strict=True):
        expected = {score["label"]: score["score"] for score in scores}
        assert row["predicted"] == max(expected, key=expected.get)
        for name in CLASSES:
            assert row[f"p_{name}"] == pytest.approx(expected[name], abs=1e-4)
    probabilities = result[[f"p_{name}" for name in CLASSES]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-3)


def test_cli_prints_label_and_probabilities(checkpoint, capsys):
    main(["--model", str(checkpoint), "Stocks rally", "Goal in extra time"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    label, text, scores = lines[0].split("\t")
    assert label in CLASSES and text == "Stocks rally"
    assert all(name in scores for name in CLASSES)


def test_cli_csv_in_csv_out(checkpoint, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame(
        {"id": [7, 8], "title": ["Oil\\gas", "Chip"], "description": ["up", "down"]}
    ).to_csv(source, index=False)
    main(
        ["--model", str(checkpoint), "--input", str(source), "--output", str(tmp_path / "out.csv")]
    )
    labelled = pd.read_csv(tmp_path / "out.csv")
    assert labelled["id"].tolist() == [7, 8]
    assert set(labelled["predicted"]) <= set(CLASSES)
    expected = classify(["Oil gas up", "Chip down"], str(checkpoint))
    assert labelled["predicted"].tolist() == expected["predicted"].tolist()


def test_cli_errors_are_one_line(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint here"):
        main(["--model", str(tmp_path), "some text"])
    source = tmp_path / "in.csv"
    source.write_text("headline\nabc\n")
    with pytest.raises(SystemExit, match="needs a 'text' column"):
        main(["--input", str(source)])


def test_bf16_prediction_stays_close_to_fp32(checkpoint):
    exact = classify(TEXTS, str(checkpoint), precision="fp32")
    mixed = classify(TEXTS, str(checkpoint), precision="bf16")
    columns = [f"p_{name}" for name in CLASSES]
    assert np.allclose(exact[columns], mixed[columns], atol=0.03)
