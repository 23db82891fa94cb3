"""dvc.yaml matches the code: each stage depends on exactly the modules its command imports."""

from __future__ import annotations

import ast
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"


def module_file(name: str) -> Path | None:
    base = SOURCE / name.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def import_closure(module: str) -> set[str]:
    """Repository-relative paths of every project module that importing `module` loads."""
    files: set[Path] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        for depth in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:depth]))
            if path is None or path in files:
                continue
            files.add(path)
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textclf"):
                    pending.append(node.module)
                    pending.extend(f"{node.module}.{alias.name}" for alias in node.names)
                elif isinstance(node, ast.Import):
                    pending.extend(a.name for a in node.names if a.name.startswith("textclf"))
    return {str(path.relative_to(ROOT)) for path in files}


def test_each_stage_depends_on_exactly_the_modules_it_imports():
    stages = YAML(typ="safe", pure=True).load(ROOT / "dvc.yaml")["stages"]
    for name, stage in stages.items():
        module = stage["cmd"].split("python -m ")[1].split()[0]
        declared = {dep for dep in stage["deps"] if dep.startswith("src/")}
        assert declared == import_closure(module), name


def test_import_closure_follows_imports():
    closure = import_closure("textclf.stages.train")
    assert {"src/textclf/training.py", "src/textclf/model.py", "src/textclf/__init__.py"} <= closure
    assert "src/textclf/predict.py" not in closure
