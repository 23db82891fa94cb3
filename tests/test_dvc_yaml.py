"""dvc.yaml matches the code: each stage depends on exactly the modules its command imports,
given file by file or as a whole subpackage folder where the stage imports all of it."""

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


def imported_modules(path: Path) -> list[str]:
    """The textclf modules (and module.name candidates) that `path` imports, anywhere in it."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textclf"):
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names if a.name.startswith("textclf"))
    return names


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
            pending.extend(imported_modules(path))
    return {str(path.relative_to(ROOT)) for path in files}


def expand(dep: str) -> set[str]:
    """A declared dep as module files: a folder stands for every module in it."""
    path = ROOT / dep
    if path.is_dir():
        return {str(file.relative_to(ROOT)) for file in path.rglob("*.py")}
    return {dep}


def test_each_stage_depends_on_exactly_the_modules_it_imports():
    stages = YAML(typ="safe", pure=True).load(ROOT / "dvc.yaml")["stages"]
    for name, stage in stages.items():
        module = stage["cmd"].split("python -m ")[1].split()[0]
        declared = [dep for dep in stage["deps"] if dep.startswith("src/")]
        covered = set().union(*(expand(dep) for dep in declared))
        assert covered == import_closure(module), name
        assert len(covered) == sum(len(expand(dep)) for dep in declared), f"{name}: overlap"


def test_import_closure_follows_imports():
    closure = import_closure("textclf.stages.train")
    assert {
        "src/textclf/train/training.py",
        "src/textclf/train/model.py",
        "src/textclf/__init__.py",
    } <= closure
    assert "src/textclf/predict.py" not in closure
    assert expand("src/textclf/config") >= {"src/textclf/config/params.py"}
