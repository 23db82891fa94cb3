"""Which project modules a stage runs, and their hashes: the code stage writes one manifest per
stage (`code/<stage>.txt`) and each stage depends on its own, so that an edit reruns exactly the
stages whose import closure holds the edited module.

The closure is read from the source (`import` statements anywhere in a module, absolute or
relative), not found by importing it, so it works on a checkout that is not installed."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = "textclf"


def module_file(name: str, source: Path) -> Path | None:
    """The file of project module `name` (`textclf.data.tables`) under `source`, or None if it
    is not one."""
    base = source / name.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path, source: Path) -> str:
    """`source/textclf/data/tables.py` -> `textclf.data.tables` (a package's `__init__.py` is
    the package)."""
    parts = path.relative_to(source).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def absolute(node: ast.ImportFrom, path: Path, source: Path) -> str:
    """The module an `from ... import` names, relative ones (`from .x`, `from ..`) resolved."""
    if not node.level:
        return node.module or ""
    package = module_name(path, source).split(".")
    if path.name != "__init__.py":
        package = package[:-1]  # a module's relative imports start at its package
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(path: Path, source: Path) -> list[str]:
    """The project modules (and module.name candidates) that `path` imports, anywhere in it."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = absolute(node, path, source)
            if module == PACKAGE or module.startswith(f"{PACKAGE}."):
                names.append(module)
                names.extend(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(
                alias.name
                for alias in node.names
                if alias.name == PACKAGE or alias.name.startswith(f"{PACKAGE}.")
            )
    return names


def import_closure(module: str, source: Path) -> set[Path]:
    """Every project module file under `source` that importing `module` loads."""
    files: set[Path] = set()
    pending = [module]
    while pending:
        parts = pending.pop().split(".")
        # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        for depth in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:depth]), source)
            if path is None or path in files:
                continue
            files.add(path)
            pending.extend(imported_modules(path, source))
    return files


def manifest(module: str, source: Path) -> str:
    """One line per module of `module`'s closure, `<md5>  <path>` as md5sum prints it, sorted:
    it changes exactly when a module the stage runs changes, appears or goes."""
    lines = [
        f"{hashlib.md5(path.read_bytes()).hexdigest()}  {path.as_posix()}"
        for path in import_closure(module, source)
    ]
    return "".join(f"{line}\n" for line in sorted(lines, key=lambda line: line[34:]))
