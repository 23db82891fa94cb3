"""The first ten minutes: `make quick` end to end in a real project (the README's first
command), its results printed where a person looks and readable tables, the sources checked
before any stage (`make repro` offline), and `textclf compare` on a fresh clone."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import command_env, copy_project, free_port, make_project, run, update_params
from ruamel.yaml import YAML

from textclf.quick import quick_params

# `make -o` takes the test's own environment as the set-up .venv
MAKE = ["make", "-o", ".venv/.installed"]
NUMBER = r"[01]\.\d{4}"
HEADLINE = re.compile(
    rf"^  transformer  accuracy {NUMBER} \[{NUMBER}, {NUMBER}\]   macro-F1 {NUMBER}"
)


def params_line(project: Path, section: str, key: str) -> int:
    """The line of `section.key` in the project's params.yaml, found by reading it."""
    lines = (project / "params.yaml").read_text().splitlines()
    start = lines.index(f"{section}:")
    return next(
        n for n, line in enumerate(lines[start:], start + 1) if line.startswith(f"  {key}:")
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory, news_csvs, tiny_bert) -> dict:
    """`make quick DATA=... MODEL=...` in a fresh clone of the project as shipped."""
    folder = tmp_path_factory.mktemp("quick")
    # a folder name a shell or make would mangle: `$`, quotes and a space stay as typed
    data = folder / 'ag news $HOME "copy"'
    data.mkdir()
    for name in ("train.csv", "test.csv"):
        shutil.copy2(news_csvs[name.removesuffix(".csv")], data / name)
    project = make_project(folder / "repo", {})
    before = (project / "params.yaml").read_bytes()
    result = run([*MAKE, "quick", f"DATA={data}", f"MODEL={tiny_bert}"], project)
    return {
        "project": project,
        "data": data,
        "result": result,
        "model": tiny_bert,
        "params_before": before,
    }


def last_experiment(project: Path) -> str:
    names = run(["dvc", "exp", "list", "--name-only"], project).stdout.split()
    assert len(names) == 1, names
    return names[0]


def results_block(lines: list[str]) -> list[str]:
    """The test results: from their header to the last line."""
    start = max(n for n, line in enumerate(lines) if line.startswith("Test results on "))
    return lines[start:]


@pytest.mark.pipeline
def test_make_quick_runs_every_stage_and_ends_with_the_results(quick):
    project, result = quick["project"], quick["result"]
    output = result.stdout + result.stderr
    assert "No file hash info" not in output  # DVC's noise on a first experiment
    assert result.stdout.startswith(
        f'textclf quick --data "$QUICK_DATA" --model "$QUICK_MODEL"\nQuick run: '
        f"{quick['data']}, {quick['model'].name}, at most 1,200 train rows"
    ), result.stdout[:300]
    stages = set(re.findall(r"Running stage '([\w-]+)'", output))
    assert stages == set(YAML(typ="safe").load(project / "dvc.yaml")["stages"])
    for made in ("models/model/README.md", "models/model/onnx/model.onnx", "metrics/quality.json"):
        assert (project / made).is_file(), made
    # the test results are the last lines on the screen: header, 3 models, the paired
    # comparisons with their verdicts, the student's agreement, (calibration,) validation;
    # how to go to the full run just above them
    lines = result.stdout.splitlines()
    tail = results_block(lines)
    assert re.match(r"Test results on [\d,]+ test rows", tail[0]), "\n".join(lines[-30:])
    assert HEADLINE.match(tail[1]), tail
    assert re.match(rf"  baseline     accuracy {NUMBER} \[", tail[2])
    # the default student: a static one, beside the teacher, and how to serve it
    student = json.loads((project / "models/student/config.json").read_text())
    assert student["model_type"] == "textclf-static"
    assert re.match(rf"  student      accuracy {NUMBER} \[", tail[3])
    assert tail[4].startswith("  transformer - baseline: accuracy ")
    assert re.match(r"  student - transformer: accuracy [+-]\d\.\d{4} \[[+-]", tail[5]), tail
    assert tail[5].endswith("(5% level)")
    assert tail[6].startswith("    (a static student; it predicts the same class as the trans")
    assert tail[-1].startswith("  validation (the kept epoch): loss ")
    assert len(tail) in (8, 9)  # a calibration line only when it is clearly off
    assert "textclf serve --model models/student" in result.stdout
    assert lines[len(lines) - len(tail) - 2].endswith("`make repro`.")
    test = json.loads((project / "metrics/transformer/test.json").read_text())
    shown = f"accuracy {test['accuracy']:.4f} [{test['accuracy_low']:.4f}, "
    assert shown in result.stdout
    # params.yaml is as it was: no quick recipe and no machine path left behind for the next run
    assert (project / "params.yaml").read_bytes() == quick["params_before"]
    assert run(["git", "status", "--porcelain", "params.yaml"], project).stdout == ""
    assert "params.yaml is as it was: the quick settings are a DVC experiment" in result.stdout
    # the run's settings are recorded in dvc.lock and in the experiment
    lock = (project / "dvc.lock").read_text()
    assert str(quick["model"]) in lock and "max_train_rows: 1200" in lock
    # `textclf results` prints the same files, next commands and results again, results last
    again = run(["textclf", "results"], project).stdout.splitlines()
    assert results_block(again) == tail
    guide = again[: again.index(tail[0]) - 1]  # Files: and Next:
    assert guide[0] == "Files:" and "Next:" in guide and "\n".join(guide) in result.stdout


@pytest.mark.pipeline
def test_quick_after_another_data_layout_works_and_a_failed_one_keeps_params(quick, tmp_path):
    """An earlier run on other data leaves its layout in params.yaml: quick sets AG News's own;
    a run that fails half-way leaves params.yaml as it was and points at the own-data docs."""
    project = copy_project(quick["project"], tmp_path / "repo")
    layout = {"header": True, "columns": None, "text_columns": ["headline"]}
    # the user's own edits, not committed: quick keeps them (it once advised
    # `git checkout params.yaml`, which would have lost them)
    update_params(project, {"data": {**layout, "label_column": "topic", "classes": None}})
    before = (project / "params.yaml").read_bytes()
    with_header = tmp_path / "with-header"
    with_header.mkdir()
    for name in ("train.csv", "test.csv"):
        rows = quick["data"].joinpath(name).read_text()
        (with_header / name).write_text("label,title,description\n" + rows)
    model = f"MODEL={quick['model']}"
    failed = run([*MAKE, "quick", f"DATA={with_header}", model], project, check=False)
    assert failed.returncode != 0
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error: the quick")]
    assert errors == [
        "error: the quick run failed (the lines above say why; params.yaml is as it was); the "
        "quick run reads AG-News-format files (header-less label,title,description, labels "
        "1-4); for data of another shape see docs/your-data.md"
    ], failed.stderr[-2000:]
    assert (project / "params.yaml").read_bytes() == before
    again = run([*MAKE, "quick", f"DATA={quick['data']}", model], project)
    assert results_block(again.stdout.splitlines())[0].startswith("Test results on ")
    assert (project / "params.yaml").read_bytes() == before


@pytest.mark.pipeline
def test_the_tables_fit_a_terminal_after_the_quick_run(quick):
    project = quick["project"]
    table = run(["dvc", "metrics", "show"], project).stdout.splitlines()
    # a header, then validation, transformer, baseline and student headline files
    assert len(table) == 5 and max(map(len, table)) <= 160, table
    shown = run(["dvc", "exp", "show", "--only-changed", "--csv"], project).stdout
    header = shown.splitlines()[0].split(",")
    # the short view: every run in at most 120 characters, the quick experiment's changes named
    exps = run(["textclf", "exps"], project).stdout.splitlines()
    assert max(map(len, exps)) <= 120 and len(exps) >= 3, exps
    quick_row = next(line for line in exps if re.match(r"\w+-\w+ ", line) and "model.name" in line)
    assert f"model.name={quick['model'].name}" in quick_row and str(quick["model"]) not in quick_row
    # beside the metrics and params, DVC adds a column per file dependency whose hash differs
    # from the last commit's: here all, since the commit has no dvc.lock yet (docs/experiments.md)
    rest = [column for column in header if not (project / column).exists()]
    # the metrics are the headline ones: validation's, and 4 for each of the three models
    headline = ["accuracy", "accuracy_low", "accuracy_high", "f1_macro"]
    metrics = {"eval_loss", "eval_accuracy", "eval_f1_macro"} | {
        f"metrics/{model}/headline.json:{key}"
        for model in ("transformer", "baseline", "student")
        for key in headline
    }
    # the quick run's params that differ from params.yaml's (the AG News layout does not)
    defaults = YAML(typ="safe").load(project / "params.yaml")
    params = {
        key
        for key, value in quick_params(quick["data"], str(quick["model"])).items()
        if defaults[key.split(".")[0]].get(key.split(".")[1]) != value
    }
    assert "data.header" not in params and "model.name" in params
    assert set(rest) == {"Experiment", "rev", "typ", "Created"} | metrics | params, rest


@pytest.mark.pipeline
def test_make_plots_writes_a_page_that_renders_offline(quick):
    project = quick["project"]
    run([*MAKE, "plots"], project)
    page = (project / "dvc_plots/index.html").read_text()
    assert "<script" not in page  # nothing to load from the web
    images = re.findall(r'<img src="([^"]+)"', page)
    plots = YAML(typ="safe").load(project / "dvc.yaml")["plots"]
    pngs = [plot for plot in plots if isinstance(plot, str) and plot.endswith(".png")]
    assert len(pngs) == 8 and len(set(images)) == len(pngs), images
    assert {"metrics/student/confusion_matrix.png", "metrics/student/reliability.png"} <= set(pngs)
    for image in images:
        assert (project / "dvc_plots" / image).read_bytes().startswith(b"\x89PNG")


@pytest.mark.pipeline
def test_compare_on_a_fresh_clone_says_what_to_compare_instead(quick):
    project = quick["project"]
    branch = run(["git", "rev-parse", "--abbrev-ref", "HEAD"], project).stdout.strip()
    result = run(["textclf", "compare", branch, "workspace"], project, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"error: {branch}: no recorded run has metrics/transformer/predictions.csv (its dvc.lock "
        "does not list it): compare two experiments instead (`dvc exp show` lists them"
    )
    assert result.stderr.count("\n") == 1


@pytest.mark.pipeline
def test_sources_of_up_to_date_stages_are_not_needed(quick):
    project, data = quick["project"], quick["data"]
    # the quick settings applied again (params.yaml was put back after the run): every stage
    # is then up to date
    run(["dvc", "exp", "apply", last_experiment(project)], project)
    hidden = data.with_name("moved-away")
    data.rename(hidden)  # the files the quick run downloaded are gone: no stage needs them
    try:
        result = run(["textclf", "check"], project)
        assert result.stdout.startswith("sources: reachable (or not needed")
        (project / "dvc.lock").rename(project / "dvc.lock.kept")  # now download would run
        missing = run(["textclf", "check"], project, check=False)
        (project / "dvc.lock.kept").rename(project / "dvc.lock")
    finally:
        hidden.rename(data)
    line = params_line(project, "data", "train_url")
    assert missing.stderr.startswith(
        f"error: cannot reach data.train_url (params.yaml:{line}: {data}/train.csv: no such file"
    )
    assert "model.name" not in missing.stderr  # the model folder is there


def test_offline_make_repro_names_every_missing_source_before_any_stage(tmp_path):
    port = free_port()  # nothing listens there: an unreachable host, as offline
    params = {
        "data": {
            "train_url": f"http://127.0.0.1:{port}/train.csv",
            "test_url": f"http://127.0.0.1:{port}/test.csv",
        },
        "model": {"name": "org/no-such-model"},
    }
    project = make_project(tmp_path / "repo", params)
    hub = {"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_CACHE": str(tmp_path / "cache")}
    result = subprocess.run(
        [*MAKE, "repro"], cwd=project, env={**command_env(), **hub}, capture_output=True, text=True
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    train, test = (params_line(project, "data", key) for key in ("train_url", "test_url"))
    model = params_line(project, "model", "name")
    assert errors[0].startswith(
        f"error: cannot reach data.train_url (params.yaml:{train}: http://127.0.0.1:{port}/"
        f"train.csv: [Errno 111] Connection refused), data.test_url (params.yaml:{test}: "
        f"http://127.0.0.1:{port}/test.csv: [Errno 111] Connection refused), model.name "
        f"(params.yaml:{model}: org/no-such-model: [Errno 111] Connection refused); nothing "
        "was run: offline, put the files on this machine"
    )
    assert "set model.name to a model folder" in errors[0]
    assert "Running stage" not in result.stdout and not (project / "data/raw").exists()


def test_results_before_any_run_is_one_line(tmp_path):
    result = run(["textclf", "results"], tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no results here yet (metrics/transformer/test.json")
    assert result.stderr.endswith(
        "run `make quick` or `dvc repro`, or `dvc pull` a colleague's run\n"
    )
