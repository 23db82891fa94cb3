import dataclasses
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from textclf.config.errors import ParamsError
from textclf.config.params import load_params, parse_params
from textclf.config.search_params import default_space

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = {"data": {"train_url": "a.csv", "test_url": "b.csv", "classes": ["x", "y"]}}


def with_value(section: str, key: str, value) -> dict:
    raw = {name: dict(values) for name, values in MINIMAL.items()}
    raw.setdefault(section, {})[key] = value
    return raw


def test_repository_params_load_with_notebook_defaults():
    params = load_params(ROOT / "params.yaml")
    assert params.data.classes == ["World", "Sports", "Business", "Sci/Tech"]
    assert params.model.name == "bert-base-cased"
    assert (params.prepare.validation_size, params.prepare.seed) == (0.1, 1122)
    assert (params.train.epochs, params.train.batch_size, params.train.weight_decay) == (
        2,
        24,
        0.01,
    )
    assert params.train.min_steps == 300  # AG News's 9,000 steps are far above it
    assert params.search.space == default_space()


def test_yaml_1_2_floats_as_dvc_writes_them(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        "data: {train_url: a, test_url: b, classes: [x, y]}\ntrain: {learning_rate: 3e-05}\n"
    )
    assert load_params(path).train.learning_rate == pytest.approx(3e-5)


def test_integers_are_accepted_for_floats():
    assert parse_params(with_value("train", "epochs", 1)).train.epochs == 1.0


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("train", "learning_rate", 0, "train.learning_rate must be > 0, got 0"),
        ("train", "learning_rate", "fast", "train.learning_rate must be float, got 'fast'"),
        ("train", "batch_size", -4, "train.batch_size must be > 0"),
        ("train", "batch_size", 2.5, "train.batch_size must be int"),
        ("train", "epochs", 0, "train.epochs must be > 0"),
        ("train", "min_steps", -5, "train.min_steps must be >= 0 (0 or null: off), got -5"),
        ("train", "min_steps", 1.5, "train.min_steps must be int"),
        ("search", "metric", "accuracy", "search.metric must be one of eval_loss"),
        ("search", "trials", 0, "search.trials must be > 0"),
        ("search", "study", "a b", "search.study must be letters, digits"),
        ("search", "heartbeat_seconds", 0, "search.heartbeat_seconds must be > 0, got 0"),
        ("search", "heartbeat_seconds", 0.5, "search.heartbeat_seconds must be int"),
        ("search", "heartbeat_seconds", 10**12, "search.heartbeat_seconds must be <= 86400"),
        ("search", "study", "s" * 300, "search.study must be at most 64 characters"),
        ("search", "seed", -1, "search.seed must be between 0 and 4294967295, got -1"),
        ("train", "seed", 2**32, "train.seed must be between 0 and 4294967295, got 4294967296"),
        ("prepare", "seed", -5, "prepare.seed must be between 0 and 4294967295, got -5"),
        ("quality", "seed", 2**40, "quality.seed must be between 0 and 4294967295"),
        (
            "train",
            "sampling",
            "sorted",
            "train.sampling must be 'random', 'group_by_length' or 'bucketed'",
        ),
        ("train", "compile", "fast", "train.compile must be 'auto', 'on' or 'off', got 'fast'"),
        ("train", "compile", True, "train.compile must be str"),
        ("evaluate", "compile", "yes", "evaluate.compile must be 'auto', 'on' or 'off', got"),
        ("train", "learning_rte", 1e-4, "unknown key train.learning_rte"),
        ("prepare", "validation_size", 1.0, "prepare.validation_size must be between 0 and 1"),
        ("prepare", "validation_size", 0, "prepare.validation_size must be between 0 and 1"),
        ("prepare", "max_train_rows", 0, "prepare.max_train_rows must be > 0"),
        ("tokenize", "max_length", -1, "tokenize.max_length must be > 0"),
        ("data", "classes", [], "data.classes must list at least two class names"),
        ("data", "classes", ["a", "b", "a"], "data.classes must be unique, repeated: a"),
        ("evaluate", "batch_size", True, "evaluate.batch_size must be int, got True"),
        ("train", "class_weights", "inverse", "train.class_weights must be 'none' or 'balanced'"),
        ("train", "threshold", 1.0, "train.threshold must be between 0 and 1, got 1.0"),
        ("train", "threshold", float("nan"), "train.threshold must be a finite number"),
        ("train", "best_metric", "recall", "train.best_metric must be one of loss, accuracy"),
        ("train", "early_stopping_patience", 0, "train.early_stopping_patience must be > 0"),
        ("train", "load_best", "yes", "train.load_best must be bool, got 'yes'"),
        ("tokenize", "truncation", "tail", "tokenize.truncation must be one of head, head_tail"),
        ("tokenize", "chunk_overlap", 1.0, "tokenize.chunk_overlap must be in [0, 1), got 1.0"),
        ("tokenize", "num_proc", 0, "tokenize.num_proc must be > 0, got 0"),
        ("tokenize", "shard_rows", -5, "tokenize.shard_rows must be > 0, got -5"),
        ("data", "multi_label", 1, "data.multi_label must be bool, got 1"),
        ("data", "label_separator", "", "data.label_separator must be a non-blank string"),
        ("distill", "hidden", 10**12, "distill.hidden must be <= 65,536, got 1,000,000,000,000"),
        ("distill", "pca_dims", 10**9, "distill.pca_dims must be <= 8,192"),
        ("distill", "layers", 10**6, "distill.layers must be <= 128"),
        ("distill", "batch_size", 10**10, "distill.batch_size must be <= 1,000,000"),
        ("distill", "head_epochs", 10**9, "distill.head_epochs must be <= 10,000"),
        ("distill", "tune_epochs", 10**9, "distill.tune_epochs must be <= 10,000"),
    ],
)
def test_bad_values_fail_naming_the_key(section, key, value, message):
    with pytest.raises(ParamsError, match=re.escape(message)):
        parse_params(with_value(section, key, value))


def test_unknown_section_and_missing_key():
    with pytest.raises(ParamsError, match="unknown key trian"):
        parse_params({**MINIMAL, "trian": {}})
    with pytest.raises(ParamsError, match="missing key data.classes"):
        parse_params({"data": {"train_url": "a", "test_url": "b"}})


def test_docs_document_every_param_and_nothing_else():
    from ruamel.yaml import YAML

    raw = YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text())
    keys = {f"{section}.{key}" for section, values in raw.items() for key in values}
    page = "\n".join(path.read_text() for path in sorted((ROOT / "docs").glob("*.md")))
    documented = set(re.findall(r"^\| `([a-z_]+\.[A-Za-z_]+)` \|", page, flags=re.MULTILINE))
    assert documented == keys
    load_params(ROOT / "params.yaml")  # and the defaults are valid


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text_columns": ["title", "title"]}, "data.text_columns names a column twice: title"),
        ({"columns": ["label", "title", "title"]}, "data.columns names a column twice: title"),
        ({"columns": []}, "data.columns must name the columns of a header-less file"),
        ({"label_column": ""}, "data.label_column must name a column, got ''"),
        ({"columns": ["label", "headline"]}, "data.columns has no 'title'"),
        ({"text_columns": [" "]}, "data.text_columns must not hold an empty column name"),
    ],
)
def test_column_params_that_cannot_work_fail_in_the_first_stage(tmp_path, data, message):
    """Checked when params.yaml is read, so `download` (the first stage) stops before
    data/raw is written."""
    params = YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text())
    params["data"].update(data)
    path = tmp_path / "params.yaml"
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(params, path)
    with pytest.raises(ParamsError, match=re.escape(message)) as failure:
        load_params(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: data\.", str(failure.value)), failure.value


def test_json_lines_data_needs_no_header_less_columns(tmp_path):
    params = YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text())
    params["data"].update(train_url="train.jsonl", text_columns=["text"], columns=None)
    path = tmp_path / "params.yaml"
    YAML(typ="safe", pure=True).dump(params, path)
    assert load_params(path).data.text_columns == ["text"]


def test_the_card_names_the_data_the_run_read():
    from textclf.ship.card import dataset_of

    params = parse_params(YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text()))
    assert dataset_of(params) == ("AG News", "fancyzhx/ag_news")  # the notebook's files
    own = dataclasses.replace(
        params, data=dataclasses.replace(params.data, train_url="s3://team/tickets.jsonl?v=2")
    )
    assert dataset_of(own) == ("tickets.jsonl", None)
    named = dataclasses.replace(
        own, card=dataclasses.replace(own.card, dataset_name="Support tickets", dataset_id="t/x")
    )
    assert dataset_of(named) == ("Support tickets", "t/x")


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({"dataset_name": "Tickets\n## Injected"}, "card.dataset_name must be one line"),
        ({"license": "mit\nextra: 1"}, "card.license must be one line"),
        ({"language": "English"}, "card.language must be a language code such as en"),
        ({"dataset_name": " "}, "card.dataset_name must not be empty"),
    ],
)
def test_card_params_that_would_break_the_card_are_refused(tmp_path, card, message):
    params = YAML(typ="safe", pure=True).load((ROOT / "params.yaml").read_text())
    params["card"].update(card)
    path = tmp_path / "params.yaml"
    YAML(typ="safe", pure=True).dump(params, path)
    with pytest.raises(ParamsError, match=re.escape(message)):
        load_params(path)
