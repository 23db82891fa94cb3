"""End to end: real `dvc repro` of a copy of this project in a temporary git repository."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    PIPELINE_STAGES,
    copy_project,
    digests,
    free_port,
    repro,
    run,
    stages_run,
    update_params,
)
from fixtures import CLASSES
from huggingface_hub import ModelCard
from ruamel.yaml import YAML
from transformers import pipeline

from textclf.predict import classify as classify_texts

pytestmark = pytest.mark.pipeline

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "validation", "test")
STAGES = PIPELINE_STAGES
RESULT_FILES = (
    "test.json",
    "report.txt",
    "per_class.csv",
    "predictions.csv",
    "mistakes.csv",
    "calibration.csv",
    "confusion_matrix.png",
    "reliability.png",
)
TEST_METRIC_KEYS = {
    "accuracy",
    "loss",
    "f1_macro",
    "f1_weighted",
    "accuracy_low",
    "accuracy_high",
    "f1_macro_low",
    "f1_macro_high",
    "ece",
    "brier",
}
TRAIN_METRIC_KEYS = {
    "train_loss",
    "eval_loss",
    "eval_accuracy",
    "eval_f1_macro",
    "kept_epoch",
    "epochs_run",
    "train_runtime_s",
    "train_samples_per_second",
    "epochs",
    "schedule",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory, trained_project) -> Path:
    """The fully run pipeline, this module's own copy (its tests rerun stages and experiments)."""
    return copy_project(trained_project, tmp_path_factory.mktemp("pipeline") / "repo")


def test_every_declared_output_exists(project):
    for split in SPLITS:
        assert (project / f"data/prepared/{split}.parquet").is_file()
        assert (project / f"data/tokenized/{split}/{split}-00000.parquet").is_file()
    for name in ("train.csv", "test.csv"):
        assert (project / "data/raw" / name).is_file()
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        assert (project / "models/trained" / name).is_file()
    shipped = ("README.md", "onnx/model.onnx", "onnx/model_quantized.onnx")
    for name in ("model.safetensors", "config.json", "tokenizer.json", *shipped):
        assert (project / "models/model" / name).is_file()
    assert not list((project / "models").rglob("*.bin")), "no pickled files in the checkpoints"
    for name in ("train.json", "data.json", "training_curves.png"):
        assert (project / "metrics" / name).is_file()
    for model in ("transformer", "baseline"):
        for name in RESULT_FILES:
            assert (project / "metrics" / model / name).is_file()


def test_metrics_have_documented_keys_and_beat_chance(project):
    test = json.loads((project / "metrics/transformer/test.json").read_text())
    assert set(test) == TEST_METRIC_KEYS
    assert test["accuracy"] > 0.6, test  # 4 balanced classes: chance is 0.25
    assert test["accuracy_low"] <= test["accuracy"] <= test["accuracy_high"]
    assert test["f1_macro_low"] <= test["f1_macro"] <= test["f1_macro_high"]
    per_class = pd.read_csv(project / "metrics/transformer/per_class.csv")
    assert per_class["class"].tolist() == CLASSES
    assert set(per_class.columns) == {"class", "precision", "recall", "f1", "support"}
    assert per_class["support"].sum() == 120
    train = json.loads((project / "metrics/train.json").read_text())
    assert set(train) == TRAIN_METRIC_KEYS
    assert set(train["epochs"]) == {"epoch_1", "epoch_2", "epoch_3"}
    data = json.loads((project / "metrics/data.json").read_text())
    assert data["rows"] == {"train": 432, "validation": 48, "test": 120}
    shown = json.loads(run(["dvc", "metrics", "show", "--json"], project).stdout)
    files = next(iter(shown.values()))["data"]
    # the headline numbers only: the table fits a terminal; the detailed files stay outputs
    assert set(files) == {
        "metrics/validation.json",
        "metrics/transformer/headline.json",
        "metrics/baseline/headline.json",
        "metrics/student/headline.json",  # empty while distill.student is none
    }
    assert files["metrics/validation.json"]["data"] == {
        key: value for key, value in train.items() if key.startswith("eval_")
    }
    for model in ("transformer", "baseline"):
        test = json.loads((project / f"metrics/{model}/test.json").read_text())
        headline = files[f"metrics/{model}/headline.json"]["data"]
        assert headline == {key: test[key] for key in headline}
        assert list(headline) == ["accuracy", "accuracy_low", "accuracy_high", "f1_macro"]
    table = run(["dvc", "metrics", "show"], project).stdout.splitlines()
    assert max(map(len, table)) <= 160, table
    detailed = run(["dvc", "metrics", "show", "--json", "metrics/train.json"], project).stdout
    assert set(next(iter(json.loads(detailed).values()))["data"]["metrics/train.json"]["data"]) == (
        TRAIN_METRIC_KEYS
    )


def test_comparison_stage_agrees_with_both_models_test_metrics(project):
    comparison = json.loads((project / "metrics/comparison.json").read_text())
    assert set(comparison) == {
        "rows",
        "baseline_accuracy",
        "transformer_accuracy",
        "accuracy_diff",
        "accuracy_diff_low",
        "accuracy_diff_high",
        "f1_macro_diff",
        "f1_macro_diff_low",
        "f1_macro_diff_high",
        "mcnemar_p",
        "only_baseline_right",
        "only_transformer_right",
    }
    tests = {
        model: json.loads((project / f"metrics/{model}/test.json").read_text())
        for model in ("transformer", "baseline")
    }
    assert comparison["transformer_accuracy"] == tests["transformer"]["accuracy"]
    assert comparison["baseline_accuracy"] == tests["baseline"]["accuracy"]
    difference = tests["transformer"]["accuracy"] - tests["baseline"]["accuracy"]
    assert comparison["accuracy_diff"] == pytest.approx(difference, abs=1e-6)
    only = comparison["only_transformer_right"] - comparison["only_baseline_right"]
    assert only == round(difference * comparison["rows"])
    for metric in ("accuracy", "f1_macro"):
        low, high = comparison[f"{metric}_diff_low"], comparison[f"{metric}_diff_high"]
        assert low <= comparison[f"{metric}_diff"] <= high
    assert 0 < comparison["mcnemar_p"] <= 1


@pytest.mark.parametrize("model", ["transformer", "baseline"])
def test_error_analysis_and_calibration_files_describe_the_predictions(project, model):
    folder = project / "metrics" / model
    predictions = pd.read_csv(folder / "predictions.csv")
    mistakes = pd.read_csv(folder / "mistakes.csv")
    assert mistakes.columns.tolist() == ["text", "label", "predicted", "probability"]
    assert (mistakes["label"] != mistakes["predicted"]).all()
    for label, rows in mistakes.groupby("label"):
        assert rows["probability"].is_monotonic_decreasing, label
    wrong = predictions[predictions["label"] != predictions["predicted"]]
    assert set(mistakes["text"]) <= set(wrong["text"])
    # evaluate.mistakes_per_class: 5
    assert len(mistakes) == sum(min(5, n) for n in wrong.groupby("label").size())
    calibration = pd.read_csv(folder / "calibration.csv")
    assert calibration["rows"].sum() == len(predictions) == 120
    gaps = (calibration["confidence"] - calibration["accuracy"]).abs() * calibration["rows"]
    test = json.loads((folder / "test.json").read_text())
    assert test["ece"] == pytest.approx(gaps.sum() / 120, abs=1e-5)
    assert 0 <= test["brier"] <= 2
    report = (folder / "report.txt").read_text()
    assert "Costliest confusions (true -> predicted)" in report or len(wrong) == 0


def test_model_card_states_the_metrics_of_this_checkpoint(project):
    card = ModelCard.load(project / "models/model/README.md")
    test = json.loads((project / "metrics/transformer/test.json").read_text())
    data = card.data
    assert data.pipeline_tag == "text-classification"
    assert data.library_name == "transformers" and data.language == "en"
    # trained on the fixture's own train.csv, not on AG News: the card says so, with no Hub id
    assert data.datasets is None
    assert data.model_name == "BERT-family model fine-tuned on train.csv"
    assert "AG News" not in card.text
    values = {result.metric_type: result.metric_value for result in data.eval_results}
    assert values == {"accuracy": test["accuracy"], "f1": test["f1_macro"]}
    text = card.text
    assert f"| accuracy | {test['accuracy']:.4f} | {test['accuracy_low']:.4f}" in text
    assert f"| expected calibration error | {test['ece']:.4f} |" in text
    for name in CLASSES:
        assert f". {name}" in text
    assert "432 train, 48 validation, 120 test rows" in text
    assert "| `train.learning_rate` |" in text
    assert "## Intended use" in text and "## Limits" in text
    # the folder loads as a checkpoint, with its card beside it
    classify = pipeline("text-classification", model=str(project / "models/model"), device="cpu")
    assert classify("Coach striker goal season")[0]["label"] in CLASSES


def test_onnx_export_gives_pytorchs_classes(project):
    export = json.loads((project / "metrics/export.json").read_text())
    assert export["rows"] == 48  # every validation row (fewer than export.check_rows)
    assert export["argmax_agreement"] == 1.0 and export["max_abs_logit_diff"] < 1e-4
    assert export["int8_argmax_agreement"] >= 0.9
    texts = pd.read_parquet(project / "data/prepared/test.parquet")["text"].tolist()
    model = str(project / "models/model")
    torch_result = classify_texts(texts, model, runtime="torch", precision="fp32")
    onnx_result = classify_texts(texts, model, runtime="onnx")
    assert onnx_result["predicted"].tolist() == torch_result["predicted"].tolist()
    columns = [f"p_{name}" for name in CLASSES]
    assert np.allclose(onnx_result[columns], torch_result[columns], atol=2e-4)
    int8 = classify_texts(texts, model, runtime="onnx-int8")
    assert (int8["predicted"] == torch_result["predicted"]).mean() >= 0.95
    shown = run(
        [
            "python",
            "-m",
            "textclf.predict",
            "--runtime",
            "onnx",
            "--model",
            model,
            "Coach striker goal season",
        ],
        project,
    ).stdout
    assert shown.split("\t")[0] in CLASSES


def test_export_prints_its_progress_and_no_library_chatter(trained_project, tmp_path):
    project = copy_project(trained_project, tmp_path / "repo")
    result = run(["python", "-m", "textclf.stages.export"], project)
    output = result.stdout + result.stderr
    assert "Quantizing to int8" in output and "ONNX gives PyTorch's class" in output
    # torch's list of skipped torchvision operators, ONNX Runtime's pre-processing advice
    assert "torchvision" not in output and "pre-processing" not in output, output


def test_model_registry_serves_the_model_folder_alone(project, tmp_path):
    """The README's `dvc artifacts get`: the model, not the data, from the project's URL."""
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "registry", "--allow-empty"], project)
    run(["dvc", "push"], project)
    listed = YAML(typ="safe").load((project / "dvc.yaml").read_text())["artifacts"]
    assert listed["text-classifier"]["type"] == "model"
    # a version is a git tag (GTO's `text-classifier@v1.0.0`), as in DVC's model registry
    run(["gto", "register", "text-classifier", "--version", "v1.0.0"], project)
    shown = run(["gto", "show", "text-classifier", "--json"], project).stdout
    assert "v1.0.0" in shown
    for target, version in ((tmp_path / "latest", []), (tmp_path / "v1", ["--rev", "v1.0.0"])):
        command = ["dvc", "artifacts", "get", str(project), "text-classifier", *version]
        run([*command, "-o", str(target)], tmp_path)
        assert digests(target) == digests(project / "models/model")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["latest", "v1"]


def test_training_curves_have_a_point_per_logging_step_on_the_step_axis(project):
    """27 steps per epoch, 3 epochs, a log every 10 steps: the first and last steps count too."""
    curves = project / "dvclive/train/plots/metrics"
    loss = pd.read_csv(curves / "loss.tsv", sep="\t")
    assert loss["step"].tolist() == [1, 10, 20, 30, 40, 50, 60, 70, 80, 81]
    evaluation = pd.read_csv(curves / "eval/loss.tsv", sep="\t")
    assert evaluation["step"].tolist() == [27, 54, 81]
    assert not (project / "dvclive/train/params.yaml").exists(), "params live in params.yaml"


def test_checkpoint_answers_with_class_names_in_transformers_pipeline(project):
    classify = pipeline("text-classification", model=str(project / "models/model"), device="cpu")
    answers = classify(["Shares profit market investors earnings", "Coach striker goal season"])
    assert {answer["label"] for answer in answers} <= set(CLASSES)
    report = (project / "metrics/transformer/report.txt").read_text()
    assert all(name in report for name in CLASSES)


def test_the_model_cards_snippet_classifies_a_text_longer_than_the_model_reads(project):
    card = (project / "models/model/README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    long_text = "Shares profit market investors earnings " * 400  # 2,000 words
    code = snippet.replace('"models/model"', repr(str(project / "models/model"))).replace(
        '"Stocks rally as oil prices fall"', repr(long_text)
    )
    namespace: dict = {}
    # the snippet's last line is an expression: keep its value (top_k=None: every class)
    exec(
        compile(code.replace("\nclassify(", "\nanswer = classify("), "README.md", "exec"), namespace
    )
    answer = namespace["answer"]
    scores = answer[0] if isinstance(answer[0], list) else answer  # one text: one list of classes
    assert {entry["label"] for entry in scores} == set(CLASSES)


def test_repro_reruns_only_what_changed(project):
    assert repro(project) == set(), "nothing changed, nothing may run"
    before = json.loads((project / "metrics/train.json").read_text())

    update_params(project, {"train": {"learning_rate": 2e-3}})
    # compare and package rerun only if the models' predictions (or their metrics) changed;
    # quality_folds reads the train params (quality.model transformer) and, with the baseline,
    # writes the same empty file again in a second, so the quality stage does not rerun
    assert repro(project) - {"compare", "quality_folds"} == {
        "train",
        "evaluate",
        "export",
        "package",
        "distill",
        "score",  # the models it scores with changed (with score.input empty: a README)
    }
    diff = json.loads(run(["dvc", "metrics", "diff", "--json"], project).stdout)
    assert diff["metrics/validation.json"]["eval_loss"]["diff"] != 0
    targets = ["--targets", "metrics/train.json"]  # a detailed file, as the docs show
    diff = json.loads(run(["dvc", "metrics", "diff", *targets, "--json"], project).stdout)
    assert diff["metrics/train.json"]["train_loss"]["old"] == before["train_loss"]
    assert diff["metrics/train.json"]["train_loss"]["diff"] != 0
    run(["git", "commit", "-qam", "lower learning rate"], project)

    update_params(project, {"tokenize": {"max_length": 32}})
    assert repro(project) - {"compare", "quality_folds"} == {
        "tokenize",
        "train",
        "evaluate",
        "export",
        "package",
        "distill",
        "score",
    }
    assert repro(project) == set()
    run(["git", "commit", "-qam", "shorter inputs"], project)

    update_params(project, {"baseline": {"C": 1.0}})
    assert repro(project) - {"compare", "package", "score"} == {"baseline", "quality"}
    run(["git", "commit", "-qam", "stronger baseline regularization"], project)


def stages_changed_by_an_edit_of(project: Path, module: str) -> set[str]:
    """The stages that `dvc repro` would rerun once `module` (under src/textclf) is edited: the
    code stage rehashes the source (it alone reads all of it), then `dvc status` names the
    stages whose code manifest changed."""
    path = project / "src/textclf" / module
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# an edit a fork might make\n")
        assert repro(project, "--single-item", "code") == {"code"}
        return set(json.loads(run(["dvc", "status", "--json"], project).stdout))
    finally:
        path.write_bytes(original)
        repro(project, "--single-item", "code")


def test_a_code_edit_reruns_only_the_stages_that_run_it(project):
    assert stages_changed_by_an_edit_of(project, "config/search_params.py") == set()
    changed = stages_changed_by_an_edit_of(project, "train/training.py")
    assert {"train", "quality_folds"} <= changed
    assert not changed & {"download", "prepare", "tokenize", "baseline", "compare"}
    assert stages_changed_by_an_edit_of(project, "config/paths.py") == STAGES - {"code"}
    assert "Data and pipelines are up to date" in run(["dvc", "status"], project).stdout


def test_a_users_own_stage_keeps_its_deps_and_the_pipeline_stays_valid(trained_project, tmp_path):
    """`dvc stage add` writes its own indentation and deps; nothing of ours rewrites dvc.yaml."""
    project = copy_project(trained_project, tmp_path / "repo")
    (project / "count.py").write_text(
        "import pathlib\n"
        "rows = pathlib.Path('data/prepared/schema.json').read_text()\n"
        "pathlib.Path('count.txt').write_text(str(len(rows)))\n"
    )
    command = ["dvc", "stage", "add", "-q", "-n", "count", "-d", "count.py"]
    command += ["-d", "src/textclf/data/labels.py", "-o", "count.txt", "python count.py"]
    run(command, project)
    # a comment of the user's inside the deps (DVC writes 4-space list items) stays as it is
    text = (project / "dvc.yaml").read_text()
    text = text.replace("    - count.py\n", "    # the script itself\n    - count.py\n")
    (project / "dvc.yaml").write_text(text)
    before = (project / "dvc.yaml").read_text()
    assert "    - src/textclf/data/labels.py" in before and "# the script itself" in before
    assert repro(project) == {"count"}
    assert (project / "dvc.yaml").read_text() == before
    assert "Data and pipelines are up to date" in run(["dvc", "status"], project).stdout


def test_run_cache_restores_train_evaluate_and_baseline(project):
    """A param changed and set back: every stage comes back from the run-cache, none reruns."""
    before = {name: digests(project / name) for name in ("models", "metrics", "dvclive")}
    update_params(project, {"train": {"learning_rate": 1e-3}, "baseline": {"C": 3.0}})
    changed = repro(project)
    assert {"train", "evaluate", "baseline", "export", "package"} <= changed
    run(["git", "checkout", "params.yaml"], project)
    output = run(["dvc", "repro"], project).stdout
    assert stages_run(output) == set(), output
    for stage in changed:
        assert f"Stage '{stage}' is cached - skipping run" in output
    assert {name: digests(project / name) for name in before} == before
    assert run(["git", "status", "--porcelain"], project).stdout == ""


def test_data_stages_are_byte_deterministic(project):
    before = {name: digests(project / "data" / name) for name in ("prepared", "tokenized")}
    assert repro(project, "--force", "--single-item", "prepare") == {"prepare"}
    assert repro(project, "--force", "--single-item", "tokenize") == {"tokenize"}
    after = {name: digests(project / "data" / name) for name in ("prepared", "tokenized")}
    assert after == before
    assert "Data and pipelines are up to date" in run(["dvc", "status"], project).stdout


def test_baseline_has_evaluate_keys_and_beats_chance(project):
    baseline = json.loads((project / "metrics/baseline/test.json").read_text())
    transformer = json.loads((project / "metrics/transformer/test.json").read_text())
    # the baseline also says how many train rows it fitted (baseline.max_train_rows)
    assert set(baseline) == set(transformer) | {"train_rows", "train_rows_available"}
    assert baseline["train_rows"] == baseline["train_rows_available"] == 432
    per_class = [
        pd.read_csv(project / f"metrics/{model}/per_class.csv")
        for model in ("baseline", "transformer")
    ]
    assert per_class[0].columns.tolist() == per_class[1].columns.tolist()
    assert per_class[0]["class"].tolist() == per_class[1]["class"].tolist() == CLASSES
    assert baseline["accuracy"] > 0.5, baseline
    shown = json.loads(run(["dvc", "metrics", "show", "--json"], project).stdout)
    files = next(iter(shown.values()))["data"]
    assert {"metrics/transformer/headline.json", "metrics/baseline/headline.json"} <= set(files)


def test_plots_render_every_declared_plot(project, tmp_path):
    run(["dvc", "plots", "show", "--json", "-o", str(tmp_path / "json")], project)
    run(["dvc", "plots", "show", "-o", str(tmp_path / "html")], project)
    page = (tmp_path / "html/index.html").read_text()
    for plot in ("Loss", "Validation accuracy", "Confusion matrix", "Per-class F1", "Reliability"):
        assert plot in page, plot
    for image in (
        "training_curves.png",
        "transformer/confusion_matrix.png",
        "baseline/confusion_matrix.png",
        "transformer/reliability.png",
        "baseline/reliability.png",
    ):
        assert image.replace("/", "_") in page or image in page, image
        data = (project / "metrics" / image).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, image
    from PIL import Image

    with Image.open(project / "metrics/transformer/confusion_matrix.png") as picture:
        assert min(picture.size) >= 300


def test_experiments_compare_in_exp_show_and_metrics_diff(project):
    for name, rate in (("fast", "8e-3"), ("slow", "1e-4")):
        run(["dvc", "exp", "run", "-n", name, "-S", f"train.learning_rate={rate}"], project)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    experiments = {
        exp["name"]: exp["data"]
        for entry in shown
        for exp in (entry.get("experiments") or [])
        for exp in exp["revs"]
    }
    assert {"fast", "slow"} <= set(experiments)
    accuracy = {
        name: data["metrics"]["metrics/validation.json"]["data"]["eval_loss"]
        for name, data in experiments.items()
        if name in ("fast", "slow")
    }
    assert accuracy["fast"] != accuracy["slow"]
    params = experiments["fast"]["params"]["params.yaml"]["data"]
    assert params["train"]["learning_rate"] == pytest.approx(8e-3)
    diff = json.loads(run(["dvc", "metrics", "diff", "fast", "slow", "--json"], project).stdout)
    assert diff["metrics/validation.json"]["eval_loss"]["diff"] != 0


def compare(project: Path, *args: str) -> subprocess.CompletedProcess:
    return run(["python", "-m", "textclf.compare", *args], project, check=False)


def test_compare_command_gives_a_verdict_between_two_experiments(project):
    """The README's `python -m textclf.compare`, on the experiments run above."""
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    accuracy = {
        exp["name"]: exp["data"]["metrics"]["metrics/transformer/headline.json"]["data"]["accuracy"]
        for entry in shown
        for exp in (entry.get("experiments") or [])
        for exp in exp["revs"]
        if exp["name"] in ("fast", "slow")
    }
    result = compare(project, "fast", "slow")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["A: fast", "B: slow", "120 test rows"]
    assert f"accuracy: A {accuracy['fast']:.4f}, B {accuracy['slow']:.4f}" in lines
    difference = accuracy["slow"] - accuracy["fast"]
    assert lines[5].split()[:2] == ["accuracy", f"{difference:+.4f}"]
    assert any(line.startswith("McNemar exact p = ") for line in lines)
    assert re.fullmatch(
        r"verdict \(5% level\): (B better|A better|no significant difference)", lines[-1]
    )
    # a group of runs against one of them: the baselines are the same model, exactly no difference
    grouped = compare(project, "fast,slow", "slow", "--model", "baseline")
    assert grouped.returncode == 0, grouped.stderr
    assert "verdict (5% level): no significant difference" in grouped.stdout
    assert "McNemar" not in grouped.stdout
    # the same runs on both sides would fake a comparison
    same = compare(project, "fast,slow", "slow,fast")
    assert same.returncode == 1
    assert same.stderr == "error: A and B are the same runs (fast,slow): give two different ones\n"
    assert compare(project, "workspace", "HEAD").returncode == 0


def test_compare_refuses_incomparable_runs_in_one_line(project):
    # --temp: the workspace keeps its state for the tests below
    run(["dvc", "exp", "run", "--temp", "-n", "fewer", "-S", "prepare.max_test_rows=60"], project)
    result = compare(project, "fast", "fewer")
    assert result.returncode == 1
    assert (
        result.stderr == "error: cannot compare fast and fewer: different test rows (120 vs 60)\n"
    )
    missing = compare(project, "fast", "no-such-exp")
    assert missing.stderr == "error: no-such-exp: no such git revision or DVC experiment\n"
    # two names of one commit are one run: nothing to compare
    branch = run(["git", "branch", "--show-current"], project).stdout.strip()
    itself = compare(project, branch, "HEAD")
    assert itself.returncode == 1
    assert itself.stderr == (
        f"error: A and B are the same runs ({branch}): give two different ones\n"
    )
    run(["dvc", "exp", "remove", "fewer"], project)  # out of the `dvc exp show` tables below


def test_docs_exp_show_command_gives_a_readable_table(project, tmp_path):
    """The docs' `dvc exp show` command: the main params and headline metrics only, here and
    on a fresh clone (where every param and dependency would differ from a commit without
    outputs)."""
    page = (ROOT / "docs/experiments.md").read_text()
    command = shlex.split(re.search(r"^(dvc exp show --drop [^\n#]*?)\s*(#|$)", page, re.M)[1])
    table = run([*command, "--csv"], project).stdout.splitlines()
    columns = table[0].split(",")
    assert len(columns) <= 15, columns
    assert "train.learning_rate" in columns and "eval_accuracy" in columns
    assert "metrics/transformer/headline.json:accuracy" in columns
    assert {"fast", "slow"} <= {row.split(",")[0] for row in table[1:]}
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(project), str(clone)], tmp_path)
    fresh = run([*command, "--csv"], clone).stdout.splitlines()
    assert len(fresh[0].split(",")) <= 15, fresh[0]


def test_same_data_params_and_seed_give_identical_metrics(project):
    def results() -> tuple[dict, dict]:
        train = json.loads((project / "metrics/train.json").read_text())
        for timing in ("train_runtime_s", "train_samples_per_second"):
            train.pop(timing)
        return train, json.loads((project / "metrics/transformer/test.json").read_text())

    before = results()
    assert repro(project, "--force", "--single-item", "train") == {"train"}
    assert results() == before
    # identical weights, byte for byte: evaluate's input did not change, so it does not rerun
    assert repro(project) == set()


def test_docs_recovery_recipe_restores_the_last_commit_after_a_failed_repro(project):
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "before a failing change", "--allow-empty"], project)
    before = {name: digests(project / name) for name in ("data", "models", "metrics")}
    # prepare and tokenize rerun (dvc.lock changes); train fails after DVC removed its outputs
    update_params(
        project, {"prepare": {"max_test_rows": 60}, "train": {"learning_rate": float("inf")}}
    )
    failed = run(["dvc", "repro"], project, check=False)
    assert failed.returncode != 0
    assert "train.learning_rate must be a finite number, got inf" in failed.stderr
    assert run(["git", "status", "--porcelain"], project).stdout != ""

    readme = (ROOT / "docs/troubleshooting.md").read_text()
    recipe = re.search(r"^(git checkout HEAD -- [^\n]*&& dvc checkout[^\n]*)$", readme, re.M)[1]
    for command in recipe.split(" && "):
        run(shlex.split(command), project)
    assert {name: digests(project / name) for name in before} == before
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    assert "Data and pipelines are up to date" in run(["dvc", "status"], project).stdout


def test_outputs_hold_no_pickles(project):
    pickles = [
        path
        for folder in ("data", "models", "metrics", "dvclive")
        for path in (project / folder).rglob("*")
        if path.suffix in {".bin", ".pt", ".pth", ".pkl", ".pickle", ".joblib"}
    ]
    assert pickles == []


def test_an_offline_repro_says_how_data_raw_comes_back(trained_project, tmp_path):
    """DVC removes a stage's outputs before it runs it: a download that cannot reach its source
    leaves data/raw/ empty, and its error line says the command that restores it (the run's
    dvc.lock and cache have it, in a clone that never committed a dvc.lock too)."""
    project = copy_project(trained_project, tmp_path / "repo")
    before = digests(project / "data/raw")
    update_params(project, {"data": {"train_url": f"http://127.0.0.1:{free_port()}/train.csv"}})
    result = run(["dvc", "repro", "download"], project, check=False)
    assert result.returncode != 0
    error = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert error.startswith("error: cannot reach data.train_url")
    assert error.endswith(
        "; the files data/raw/ held before come back with `dvc checkout data/raw`"
    )
    run(["dvc", "checkout", "data/raw"], project)
    assert digests(project / "data/raw") == before
