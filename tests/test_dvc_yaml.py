"""dvc.yaml reads as the pipeline: each stage's cmd, params, data deps and outs, and one code dep,
`code/<stage>.txt`, that the code stage writes from the modules the stage imports (its import
closure, absolute and relative imports alike)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ruamel.yaml import YAML

from textclf.config.code_closure import import_closure, manifest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"
MAX_LINES = 300


def stages() -> dict:
    return YAML(typ="safe", pure=True).load(ROOT / "dvc.yaml")["stages"]


def closure(module: str, source: Path = SOURCE) -> set[str]:
    return {str(path.relative_to(source.parent)) for path in import_closure(module, source)}


def test_dvc_yaml_is_short_and_each_stage_has_one_code_dep():
    assert len((ROOT / "dvc.yaml").read_text().splitlines()) <= MAX_LINES
    modules = {path.stem for path in (SOURCE / "textclf/stages").glob("*.py")} - {"__init__"}
    assert set(stages()) == modules
    for name, stage in stages().items():
        assert stage["cmd"] == f"python -m textclf.stages.{name}", name
        code = [dep for dep in stage["deps"] if dep.startswith(("src/", "code"))]
        assert code == (["src/textclf"] if name == "code" else [f"code/{name}.txt"]), name
    assert stages()["code"]["outs"] == ["code"]


def test_the_data_stages_run_no_training_code():
    for stage in ("download", "prepare", "tokenize"):
        files = closure(f"textclf.stages.{stage}")
        assert not {file for file in files if file.startswith("src/textclf/train/")}, stage
    assert "src/textclf/modeling/tokenizer.py" in closure("textclf.stages.tokenize")
    assert "src/textclf/modeling/loading.py" not in closure("textclf.stages.tokenize")


def test_import_closure_follows_imports():
    train = closure("textclf.stages.train")
    assert {
        "src/textclf/train/training.py",
        "src/textclf/modeling/loading.py",
        "src/textclf/__init__.py",
        "src/textclf/stages/__init__.py",
    } <= train
    assert "src/textclf/predict.py" not in train
    assert "src/textclf/config/search_params.py" not in train


def test_relative_imports_are_followed(tmp_path):
    source = tmp_path / "src"
    package = source / "textclf"
    (package / "stages").mkdir(parents=True)
    (package / "data").mkdir()
    for init in ("__init__.py", "stages/__init__.py", "data/__init__.py"):
        (package / init).write_text('"""a package"""\n')
    (package / "stages/mine.py").write_text(
        "from .helper import value\nfrom . import other\nfrom ..data import rows\n"
    )
    (package / "stages/helper.py").write_text("value = 1\n")
    (package / "stages/other.py").write_text("from ..data.cells import cell\n")
    (package / "data/rows.py").write_text("rows = []\n")
    (package / "data/cells.py").write_text("cell = 0\n")
    (package / "data/unused.py").write_text("nothing = None\n")
    assert closure("textclf.stages.mine", source) == {
        f"src/textclf/{name}"
        for name in (
            "__init__.py",
            "stages/__init__.py",
            "stages/mine.py",
            "stages/helper.py",
            "stages/other.py",
            "data/__init__.py",
            "data/rows.py",
            "data/cells.py",
        )
    }


def test_a_manifest_changes_exactly_with_the_code_its_stage_runs(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(SOURCE / "textclf", source / "textclf", ignore=shutil.ignore_patterns("__p*"))
    names = [name for name in stages() if name != "code"]
    before = {name: manifest(f"textclf.stages.{name}", source) for name in names}
    assert before == {name: manifest(f"textclf.stages.{name}", source) for name in names}
    edited = source / "textclf/modeling/inference.py"
    edited.write_text(edited.read_text() + "# an edit\n")
    after = {name: manifest(f"textclf.stages.{name}", source) for name in names}
    changed = {name for name in names if after[name] != before[name]}
    users = {
        name
        for name in names
        if "src/textclf/modeling/inference.py" in closure(f"textclf.stages.{name}", source)
    }
    assert changed == users
    assert {"evaluate", "export", "distill"} <= changed
    assert not changed & {"download", "prepare", "tokenize", "baseline", "compare"}
