import http.server
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures import CLASSES
from transformers import AutoTokenizer, pipeline

from textclf.config.errors import UserError
from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.modeling.loading import load_model_for_training
from textclf.predict import classify, main, read_input

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


def test_cli_errors_are_one_line(tmp_path, checkpoint):
    with pytest.raises(SystemExit, match="no checkpoint here"):
        main(["--model", str(tmp_path), "some text"])
    source = tmp_path / "in.csv"
    source.write_text("headline\nabc\n")
    with pytest.raises(SystemExit, match="in.csv needs a 'text' column.*has: headline"):
        main(["--model", str(checkpoint), "--input", str(source)])


BAD_INPUTS = {
    "missing file": (None, "missing.csv: file not found"),
    "empty file": (b"", "in.csv: no rows"),
    "header only": (b"id,text\n", "in.csv: no rows"),
    "latin-1": (b"id,text\n1,ok\n2,caf\xe9\n", "in.csv:3: bytes that are not UTF-8"),
    "latin-1 first row": (b"caf\xe9,text\n1,ok\n", "in.csv:1: bytes that are not UTF-8"),
}
BAD_JSONL = b'{"text": "fine"}\n{"text": "bad \\ud800"}\n'
DEEP_JSONL = b'{"text": "fine"}\n{"text": "deep", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"


def test_a_lone_surrogate_deep_nesting_or_a_folder_as_input_is_one_line(checkpoint, tmp_path):
    source, deep = tmp_path / "in.jsonl", tmp_path / "deep.jsonl"
    source.write_bytes(BAD_JSONL)
    deep.write_bytes(DEEP_JSONL)  # select reads its pool with the same reader
    for given, expected in (
        (
            source,
            f"error: {source}:2: key 'text' holds a lone surrogate (\\ud800), which is not text",
        ),
        (
            deep,
            f"error: {deep}:2: JSON nested too deeply to read (arrays or objects inside each "
            "other thousands of times)",
        ),
        (tmp_path, f"error: {tmp_path} is a folder: give a data file"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(
                [
                    "--model",
                    str(checkpoint),
                    "--input",
                    str(given),
                    "--output",
                    str(tmp_path / "o.csv"),
                ]
            )
        assert str(exit_info.value.code) == expected
        assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_csv_is_one_line_and_writes_nothing(checkpoint, tmp_path, case, capsys):
    content, expected = BAD_INPUTS[case]
    source = tmp_path / ("missing.csv" if content is None else "in.csv")
    if content is not None:
        source.write_bytes(content)
    output = tmp_path / "out.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(checkpoint), "--input", str(source), "--output", str(output)])
    message = str(exit_info.value.code)
    assert message.startswith("error: ") and expected in message and "\n" not in message
    assert not output.exists()


BAD_FLAGS = {
    "negative batch size": (["--batch-size", "-1"], "--batch-size: must be a positive integer"),
    "zero batch size": (["--batch-size", "0"], "--batch-size: must be a positive integer"),
    "unknown precision": (["--precision", "fp8"], "--precision: invalid choice"),
}


@pytest.mark.parametrize("case", BAD_FLAGS, ids=list(BAD_FLAGS))
def test_bad_flags_are_one_line(checkpoint, case, capsys):
    flags, expected = BAD_FLAGS[case]
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(checkpoint), *flags, "some text"])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ") and expected in stderr and stderr.count("\n") == 1


def test_output_in_a_missing_folder_is_an_error_before_any_work(checkpoint, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\nStocks rally\n")
    target = tmp_path / "no/such/folder/out.csv"
    with pytest.raises(SystemExit, match=r"^error: .*out.csv: the folder .* does not exist$"):
        main(["--model", str(checkpoint), "--input", str(source), "--output", str(target)])


def test_output_may_replace_the_input_and_a_failed_write_keeps_it(checkpoint, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\nStocks rally\nGoal in extra time\n")
    main(["--model", str(checkpoint), "--input", str(source), "--output", str(source)])
    labelled = pd.read_csv(source)
    assert labelled["text"].tolist() == ["Stocks rally", "Goal in extra time"]
    assert "predicted" in labelled
    # a write that fails midway (file size limit: EFBIG, as on a full disk) keeps the input whole
    source.write_text("text\n" + "Stocks rally on strong earnings\n" * 300)
    before = source.read_bytes()

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    command = [sys.executable, "-m", "textclf.predict", "--model", str(checkpoint)]
    failed = subprocess.run(
        [*command, "--input", str(source), "--output", str(source)],
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
    )
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith(f"error: {source}: cannot write")
    assert source.read_bytes() == before
    assert list(tmp_path.glob(".in.csv.tmp-*")) == []


def test_output_to_a_symlink_or_a_fifo_keeps_it(checkpoint, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\nStocks rally\n")
    real = tmp_path / "runs/labelled.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    main(["--model", str(checkpoint), "--input", str(source), "--output", str(link)])
    assert link.is_symlink() and link.resolve() == real
    assert pd.read_csv(real)["text"].tolist() == ["Stocks rally"]

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    main(["--model", str(checkpoint), "--input", str(source), "--output", str(fifo)])
    reader.join(timeout=60)
    assert received and received[0].startswith("text,predicted,")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_bf16_prediction_stays_close_to_fp32(checkpoint):
    exact = classify(TEXTS, str(checkpoint), precision="fp32")
    mixed = classify(TEXTS, str(checkpoint), precision="bf16")
    columns = [f"p_{name}" for name in CLASSES]
    assert np.allclose(exact[columns], mixed[columns], atol=0.03)


def test_header_less_file_shaped_like_the_training_data(checkpoint, tmp_path):
    """A checkpoint trained on header-less AG News CSVs labels such a file with no flags, even
    when its first row could not be a header (a repeated value)."""
    trained = tmp_path / "trained"
    shutil.copytree(checkpoint, trained)
    config = json.loads((trained / "config.json").read_text())
    config["textclf"] = {
        "text_columns": ["title", "description"],
        "clean_backslashes": True,
        "label_column": "label",
        "columns": ["label", "title", "description"],
    }
    (trained / "config.json").write_text(json.dumps(config))
    source = tmp_path / "news.csv"
    source.write_text('"3","Same","Same"\n"1","Oil\\gas","up"\n')
    output = tmp_path / "labelled.csv"
    main(["--model", str(trained), "--input", str(source), "--output", str(output)])
    labelled = pd.read_csv(output)
    assert labelled[["label", "title"]].values.tolist() == [[3, "Same"], [1, "Oil\\gas"]]
    expected = classify(["Same Same", "Oil gas up"], str(trained))
    assert labelled["predicted"].tolist() == expected["predicted"].tolist()


def test_a_header_without_the_text_columns_and_a_bad_later_line_are_named(checkpoint, tmp_path):
    settings = CheckpointSettings(
        text_columns=["title", "description"], columns=["label", "title", "description"]
    )
    other = tmp_path / "other.csv"
    other.write_text("id,body\n1,Stocks rally\n")
    with pytest.raises(UserError) as failure:
        read_input(str(other), settings)
    assert str(failure.value) == (
        f"{other} needs a 'text' column, or 'title' and 'description' (it has: id, body)"
    )
    broken = tmp_path / "broken.csv"
    broken.write_text('text\nfine\nalso fine\n"never closed\n')
    with pytest.raises(UserError) as failure:
        read_input(str(broken), settings)
    assert str(failure.value).startswith(f"{broken}:4: "), failure.value


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".tsv", ".jsonl.gz"])
def test_output_onto_the_input_keeps_its_format_and_every_column(checkpoint, tmp_path, suffix):
    source = tmp_path / f"news{suffix}"
    rows = pd.DataFrame({"id": [7, 8], "text": ["Stocks rally", "Late goal sinks champions"]})
    if suffix == ".parquet":
        rows.to_parquet(source)
    elif suffix == ".tsv":
        rows.to_csv(source, sep="\t", index=False)
    else:
        rows.to_json(source, orient="records", lines=True, compression="infer")
    # the input by its own name, then through a link whose name says CSV
    link = tmp_path / "labelled.csv"
    link.symlink_to(source)
    for output in (source, link):
        main(["--model", str(checkpoint), "--input", str(source), "--output", str(output)])
        if suffix == ".parquet":
            labelled = pd.read_parquet(source)
        elif suffix == ".tsv":
            labelled = pd.read_csv(source, sep="\t")
        else:
            labelled = pd.read_json(source, lines=True, compression="infer")
        assert labelled["id"].tolist() == [7, 8]
        assert labelled["text"].tolist() == rows["text"].tolist()
        assert "predicted" in labelled and "p_World" in labelled
        assert link.is_symlink()


def test_csv_output_cells_never_run_as_formulas(checkpoint, tmp_path):
    source = tmp_path / "in.jsonl"
    texts = ['=HYPERLINK("http://x","click")', "+1 oil", "@SUM(A1)", "\tTab", "plain", "-1"]
    pd.DataFrame({"text": texts}).to_json(source, orient="records", lines=True)
    main(["--model", str(checkpoint), "--input", str(source), "--output", str(tmp_path / "o.csv")])
    written = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
    assert written["text"].tolist()[:4] == [f"'{text}" for text in texts[:4]]
    assert written["text"].tolist()[4:] == ["plain", "-1"]  # a number is no formula
    assert (written[[c for c in written if c.startswith("p_")]].to_numpy() >= 0).all()
    # JSON Lines is no spreadsheet format: the texts stay as they were
    main(
        ["--model", str(checkpoint), "--input", str(source), "--output", str(tmp_path / "o.jsonl")]
    )
    assert pd.read_json(tmp_path / "o.jsonl", lines=True)["text"].tolist() == texts


def test_header_only_empty_one_row_and_stdin_inputs_say_what_they_are(checkpoint, tmp_path):
    """A header with no rows is not a row of the wrong width; a one-line header-less file is
    one row; `--input -` says standard input is not read."""
    trained = tmp_path / "trained"
    shutil.copytree(checkpoint, trained)
    config = json.loads((trained / "config.json").read_text())
    config["textclf"] = {
        "text_columns": ["title", "description"],
        "label_column": "label",
        "columns": ["label", "title", "description"],
    }
    (trained / "config.json").write_text(json.dumps(config))
    cases = {
        "header.csv": ("title,description\n", "header.csv: no rows to classify"),
        "full_header.csv": ("label,title,description\n", "full_header.csv: no rows to classify"),
        "empty.csv": ("", "empty.csv: no rows to classify"),
    }
    for name, (content, expected) in cases.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(SystemExit) as exit_info:
            main(["--model", str(trained), "--input", str(tmp_path / name)])
        assert str(exit_info.value.code) == f"error: {tmp_path / expected} (at most a header line)"
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(trained), "--input", "-"])
    assert str(exit_info.value.code).startswith("error: --input -: standard input is not read")
    one = tmp_path / "one.csv"
    one.write_text("1,Oil prices,rise again\n")
    output = tmp_path / "out.csv"
    main(["--model", str(trained), "--input", str(one), "--output", str(output)])
    assert pd.read_csv(output)["title"].tolist() == ["Oil prices"]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ({"config.json": "{"}, "JSONDecodeError"),
        ({"config.json": "[1, 2]"}, "config.json holds a list"),
        ({"model.safetensors": "garbage"}, "SafetensorError"),
        ({"onnx/model.onnx": "garbage"}, "InvalidProtobuf"),
    ],
)
def test_a_corrupt_or_hostile_model_folder_is_one_line(checkpoint, tmp_path, damage, reason):
    folder = tmp_path / "model"
    shutil.copytree(checkpoint, folder)
    for name, content in damage.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(content)
    runtime = ["--runtime", "onnx"] if "onnx/model.onnx" in damage else []
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(folder), *runtime, "Stocks rally"])
    message = str(exit_info.value.code)
    assert message.startswith(f"error: {folder}: not a model folder textclf can load (")
    assert reason in message and "\n" not in message


def test_a_static_student_folder_without_its_vectors_is_read_only_locally(tmp_path, monkeypatch):
    """model2vec would take the missing `static/` for a Hub repo id and ask the Hub for it."""
    asked = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the handler's method name)
            asked.append(self.path)
            self.send_error(404)

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{hub.server_port}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.chdir(tmp_path)
    folder = Path("student")  # `student/static` reads as a Hub repo id
    folder.mkdir()
    config = {"model_type": "textclf-static", "num_labels": 2, "id2label": {"0": "a", "1": "b"}}
    (folder / "config.json").write_text(json.dumps(config))
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--model", str(folder), "Stocks rally"])
    finally:
        hub.shutdown()
    message = str(exit_info.value.code)
    assert message.startswith(f"error: {folder}") and "no static/ folder" in message, message
    assert asked == []


def test_the_no_student_marker_says_how_to_make_a_student(tmp_path, monkeypatch):
    """`distill.student: none` leaves a marker folder: rerunning `dvc repro` would not help."""
    from textclf.config.distill_params import NO_STUDENT

    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "README.md").write_text(NO_STUDENT)
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(folder), "Stocks rally"])
    assert str(exit_info.value.code) == (
        f"error: {folder}: no student was made here: set distill.student: static (or "
        "transformer) in params.yaml, then `dvc repro`"
    )
