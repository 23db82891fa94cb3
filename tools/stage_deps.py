"""dvc.yaml's code dependencies, generated: each stage depends on exactly the project modules its
command imports (its import closure), so that an edit reruns only the stages that run the
edited code. Run `make deps` after adding, moving or importing a module; `--check` exits 1 when
dvc.yaml is out of date (tests/test_dvc_yaml.py runs it).

A folder stands for all of its modules where the stage imports every one of them. Only the
`src/` lines of each stage's `deps:` change; the other deps, comments and stages stay as they are.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"
DVC_YAML = ROOT / "dvc.yaml"
STAGE = re.compile(r"^  ([\w-]+):\s*$")
COMMAND = re.compile(r"^    cmd:.*python -m ([\w.]+)")
DEP = re.compile(r"^      - (\S+)")


def module_file(name: str) -> Path | None:
    """The file of project module `name` (`textclf.data.tables`), or None if it is not one."""
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


def compact(closure: set[str]) -> list[str]:
    """`closure` as deps: each subpackage folder whose modules are all in it as one line."""
    folders = sorted(
        {str(Path(file).parent) for file in closure} - {"src", "src/textclf"},
        key=lambda folder: folder.count("/"),
    )
    deps: set[str] = set()
    covered: set[str] = set()
    for folder in folders:
        if any(folder.startswith(f"{done}/") for done in deps):
            continue
        files = expand(folder)
        if files <= closure:
            deps.add(folder)
            covered |= files
    return sorted(deps | (closure - covered))


def generate(text: str) -> str:
    """dvc.yaml's `text` with each stage's `src/` deps replaced by its import closure, written
    where the first of them was, or at the end of the stage's `deps:` if it had none."""
    output: list[str] = []
    stage_module: str | None = None
    in_deps = written = False

    def write_code_deps() -> None:
        nonlocal written
        if not written and stage_module:
            output.extend(f"      - {path}\n" for path in compact(import_closure(stage_module)))
        written = True

    for line in text.splitlines(keepends=True):
        dep = DEP.match(line)
        if in_deps and not dep:
            write_code_deps()
            in_deps = False
        if STAGE.match(line):
            stage_module, written = None, False
        elif match := COMMAND.match(line):
            stage_module = match.group(1)
        elif line.startswith("    deps:"):
            in_deps = True
        elif in_deps and dep.group(1).startswith("src/"):
            write_code_deps()
            continue
        output.append(line)
    if in_deps:
        write_code_deps()
    return "".join(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1, changing nothing, if dvc.yaml is stale"
    )
    args = parser.parse_args(argv)
    current = DVC_YAML.read_text()
    wanted = generate(current)
    if current == wanted:
        return 0
    if args.check:
        print("error: dvc.yaml's code deps are stale: run `make deps`", file=sys.stderr)
        return 1
    staged = DVC_YAML.with_name(".dvc.yaml.generated")
    staged.write_text(wanted)
    staged.replace(DVC_YAML)  # whole or not at all
    print("dvc.yaml: code deps regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
