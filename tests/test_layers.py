"""The package's folders show the pipeline, and its imports point downwards: config, data,
modeling, evaluate, train, distill, quality, tuning, ship, scale, then the stages and commands
on top; no cycles, no oversized module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from textclf.config.code_closure import imported_modules, module_file

SOURCE = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SOURCE / "textclf"
# lower layers never import higher ones; the stages and commands (the top level) import any
LAYERS = (
    "config",
    "data",
    "modeling",
    "evaluate",
    "train",
    "distill",
    "quality",
    "tuning",
    "ship",
    "scale",
)
TOP = len(LAYERS)
MAX_LINES = 300


def layer(path: Path) -> int:
    parts = path.relative_to(PACKAGE).parts
    return LAYERS.index(parts[0]) if parts[0] in LAYERS else TOP


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imports(path: Path) -> set[Path]:
    found = {module_file(name, SOURCE) for name in imported_modules(path, SOURCE)}
    return {file for file in found if file is not None and file != path}


def test_imports_point_downwards():
    for path in modules():
        for imported in imports(path):
            assert layer(imported) <= layer(path), f"{path.name} imports {imported}"
            if layer(path) < TOP:
                assert layer(imported) < TOP, f"{path} imports the command layer"


def test_no_import_cycles():
    graph = {path: imports(path) for path in modules()}
    state: dict[Path, str] = {}

    def visit(path: Path, trail: list[Path]) -> None:
        state[path] = "open"
        for imported in graph.get(path, ()):
            if state.get(imported) == "open":
                cycle = [*trail[trail.index(imported) :], imported] if imported in trail else []
                raise AssertionError(f"import cycle: {[p.name for p in cycle]}")
            if imported not in state:
                visit(imported, [*trail, imported])
        state[path] = "done"

    for path in graph:
        if path not in state:
            visit(path, [path])


def test_top_level_holds_only_entry_points():
    top = {path.stem for path in PACKAGE.glob("*.py")}
    commands = {"predict", "serve", "compare", "search", "select", "quick", "check", "results"}
    commands |= {"exps", "score"}
    assert top <= {"__init__", "__main__", "cli", *commands}
    assert {path.name for path in PACKAGE.iterdir() if path.is_dir()} - {"__pycache__"} == {
        *LAYERS,
        "stages",
    }


def test_every_module_is_short_and_says_what_it_is_for():
    for path in modules():
        source = path.read_text()
        assert len(source.splitlines()) <= MAX_LINES, f"{path}: {len(source.splitlines())} lines"
        assert ast.get_docstring(ast.parse(source)), f"{path}: no docstring"
    assert not list(PACKAGE.rglob("utils.py")) and not list(PACKAGE.rglob("helpers.py"))


def test_the_docs_layout_table_lists_every_module():
    rows = {}
    for line in (SOURCE.parent / "docs/pipeline.md").read_text().splitlines():
        if match := re.match(r"\| (?:`(\w+)/`|top level) \| (.*) \|$", line):
            rows[match.group(1) or "."] = set(re.findall(r"`(\w+\.py)`", match.group(2)))
    assert set(rows) == {*LAYERS, "stages", "."}
    for folder, listed in rows.items():
        modules = {path.name for path in (PACKAGE / folder).glob("*.py")} - {"__init__.py"}
        assert listed == modules, f"docs/pipeline.md, {folder}/: {listed ^ modules}"
