"""The prediction service: real HTTP requests to `python -m textclf.serve` on a free loopback
port, started and stopped here."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import command_env, server_process, serving
from fixtures import CLASSES
from transformers import AutoTokenizer

from textclf.modeling.loading import load_model_for_training
from textclf.predict import classify
from textclf.ship.onnx_export import export_onnx

TEXTS = ["Stocks rally as oil prices fall", "Coach praises striker after the final"]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory, tiny_bert) -> Path:
    """A checkpoint with its ONNX export, laid out as the package stage ships one."""
    folder = tmp_path_factory.mktemp("served")
    model = load_model_for_training(str(tiny_bert), CLASSES)
    model.config.textclf = {"text_columns": ["title", "description"], "clean_backslashes": True}
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    (folder / "onnx").mkdir()
    export_onnx(model, folder / "onnx/model.onnx", opset=18)
    return folder


@pytest.fixture(scope="module")
def server(model_folder):
    with serving(model_folder) as url:
        yield url


def call(url: str, path: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        url + path,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post(url: str, payload) -> tuple[int, dict]:
    return call(url, "/predict", json.dumps(payload).encode())


def test_health_and_classes(server):
    assert call(server, "/health") == (
        200,
        {"status": "ok", "runtime": "onnx", "classes": CLASSES},
    )
    assert call(server, "/classes") == (200, {"classes": CLASSES})
    # Swagger UI would load from a CDN and stay blank offline: off, the schema is there
    assert call(server, "/docs") == (404, {"error": "no route /docs"})
    with urllib.request.urlopen(f"{server}/openapi.json", timeout=30) as schema:
        assert "/predict" in json.loads(schema.read())["paths"]
    with urllib.request.urlopen(f"{server}/", timeout=30) as page:
        html = page.read().decode()
    assert "<textarea" in html and 'id="classify"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing from elsewhere


def test_a_batch_of_64_texts_gets_the_labels_predict_gives(server, model_folder):
    texts = [f"{TEXTS[i % 2]} number {i}" for i in range(64)]
    status, answer = post(server, {"texts": texts})
    assert status == 200
    predictions = answer["predictions"]
    assert len(predictions) == 64
    expected = classify(texts, str(model_folder), runtime="torch", precision="fp32")
    assert [p["label"] for p in predictions] == expected["predicted"].tolist()
    for prediction, (_, row) in zip(predictions, expected.iterrows(), strict=True):
        assert set(prediction["probabilities"]) == set(CLASSES)
        assert sum(prediction["probabilities"].values()) == pytest.approx(1, abs=1e-4)
        assert prediction["score"] == max(prediction["probabilities"].values())
        assert prediction["probabilities"]["World"] == pytest.approx(row["p_World"], abs=2e-4)


def test_concurrent_requests_all_succeed(server):
    payloads = [{"texts": [f"{TEXTS[i % 2]} {i}"] * (1 + i % 5)} for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda payload: post(server, payload), payloads))
    for payload, (status, answer) in zip(payloads, answers, strict=True):
        assert status == 200 and len(answer["predictions"]) == len(payload["texts"])


def test_records_are_joined_like_the_training_text(server):
    status, by_record = post(
        server, {"records": [{"title": "Stocks rally", "description": "as oil falls"}]}
    )
    assert status == 200
    _, by_text = post(server, {"texts": ["Stocks rally as oil falls"]})
    assert by_record == by_text


@pytest.mark.parametrize(
    "payload, status, message",
    [
        ({"texts": []}, 422, "no texts: send at least one"),
        ({"texts": ["fine", 3]}, 422, "texts[1]: must be a string, got int"),
        ({"texts": "just one"}, 422, "texts: must be a list of strings, got str"),
        ({"texts": ["a"] * 65}, 413, "batch of 65 texts; the limit is 64"),
        ({}, 422, 'give one of "texts", "records" or "inputs"'),
        (
            {"texts": ["a"], "records": [{"title": "a"}]},
            422,
            'give one of "texts", "records" or "inputs"',
        ),
        (
            {"records": [{"title": "only a title"}]},
            422,
            "records[0]: no 'description' (records need title, description)",
        ),
        ({"text": ["a"]}, 422, "text: unknown field (send texts, records or inputs)"),
    ],
)
def test_bad_requests_get_a_4xx_with_one_line(server, payload, status, message):
    assert post(server, payload) == (status, {"error": message})


def test_malformed_and_oversized_bodies(server):
    assert call(server, "/predict", b"{not json") == (400, {"error": "body is not valid JSON"})
    # a body over the limit is refused from its Content-Length, before it is read
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/predict")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "1100000")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {"error": "body of 1100000 bytes; the limit is 1000000"}
    connection.close()
    # the server is still up after every bad request
    assert call(server, "/health")[0] == 200


def test_a_folder_without_a_model_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "textclf.serve", "--model", str(tmp_path)],
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        result.stderr == f"error: {tmp_path}: no checkpoint here (run `dvc repro` or `dvc pull`)\n"
    )


def test_typed_texts_get_the_training_clean_up_as_records_do(server, model_folder, tmp_path):
    """One clean-up for every path: a backslash is a space whether the text is typed, sent as
    `texts`, read from a `text` column or joined from records."""
    by_text = post(server, {"texts": ["Oil\\prices fall"]})
    by_record = post(server, {"records": [{"title": "Oil\\prices", "description": "fall"}]})
    spaced = post(server, {"texts": ["Oil prices fall"]})
    assert by_text == by_record == spaced
    typed = classify(["Oil\\prices fall"], str(model_folder), runtime="torch")
    column = tmp_path / "in.jsonl"
    column.write_text(json.dumps({"text": "Oil\\prices fall"}) + "\n")
    from textclf.data.checkpoint_settings import CheckpointSettings
    from textclf.predict import read_input

    _, texts = read_input(str(column), CheckpointSettings(clean_backslashes=True))
    from_file = classify(texts, str(model_folder), runtime="torch")
    plain = classify(["Oil prices fall"], str(model_folder), runtime="torch")
    assert typed.equals(plain) and from_file.equals(plain)


def test_the_server_says_where_it_listens_and_when_it_is_ready(model_folder):
    with server_process(model_folder) as (url, process):
        process.terminate()  # /ready answered: the model is loaded
        output = process.communicate(timeout=60)[0].decode()
    lines = output.splitlines()
    assert lines[0].startswith(f"serving {model_folder} at {url}/ (the demo page; POST /predict")
    assert f"ready: {model_folder} loaded (onnx)" in lines[1:], output
