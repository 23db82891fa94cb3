"""dvc.yaml matches the code: each stage depends on exactly the modules its command imports,
given file by file or as a whole subpackage folder where the stage imports all of it, as
tools/stage_deps.py (`make deps`) generates them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML
from stage_deps import expand, generate, import_closure

ROOT = Path(__file__).resolve().parents[1]


def test_each_stage_depends_on_exactly_the_modules_it_imports():
    stages = YAML(typ="safe", pure=True).load(ROOT / "dvc.yaml")["stages"]
    for name, stage in stages.items():
        module = stage["cmd"].split("python -m ")[1].split()[0]
        declared = [dep for dep in stage["deps"] if dep.startswith("src/")]
        covered = set().union(*(expand(dep) for dep in declared))
        assert covered == import_closure(module), name
        assert len(covered) == sum(len(expand(dep)) for dep in declared), f"{name}: overlap"


def test_the_code_deps_are_generated_and_up_to_date():
    result = subprocess.run(
        [sys.executable, "tools/stage_deps.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_generator_writes_a_new_stage_s_deps_and_keeps_the_rest():
    text = (
        "stages:\n"
        "  report:\n"
        "    # a comment stays\n"
        "    cmd: python -m textclf.stages.compare\n"
        "    deps:\n"
        "      - metrics/baseline   # data deps stay first\n"
        "    outs:\n"
        "      - metrics/comparison.json\n"
    )
    generated = generate(text)
    lines = generated.splitlines()
    assert lines[:6] == text.splitlines()[:6]
    code = [line.removeprefix("      - ") for line in lines[6:] if line.startswith("      - src/")]
    assert set().union(*(expand(dep) for dep in code)) == import_closure("textclf.stages.compare")
    assert lines[-2:] == ["    outs:", "      - metrics/comparison.json"]
    assert generate(generated) == generated


def test_import_closure_follows_imports():
    closure = import_closure("textclf.stages.train")
    assert {
        "src/textclf/train/training.py",
        "src/textclf/train/model.py",
        "src/textclf/__init__.py",
    } <= closure
    assert "src/textclf/predict.py" not in closure
    assert expand("src/textclf/config") >= {"src/textclf/config/params.py"}
