"""Packaging and CI files say the same as the README and the requirements."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (lower-cased names)."""
    found = {}
    for line in path.read_text().splitlines():
        if match := re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip()):
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def test_pyproject_declares_the_runtime_requirements_and_python_311():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["requires-python"] == ">=3.11"
    assert project["tool"]["ruff"]["target-version"] == "py311"
    declared = {
        name.lower(): version
        for name, version in (dep.split("==") for dep in project["project"]["dependencies"])
    }
    assert declared == pins(ROOT / "requirements.txt")
    assert "Python 3.11+" in (ROOT / "README.md").read_text()


def test_lock_file_pins_every_requirement_at_the_same_version():
    locked = pins(ROOT / "requirements.lock")
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-remote.txt"):
        for package, version in pins(ROOT / name).items():
            assert locked.get(package) == version, (name, package)
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()


def test_github_workflow_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    test_command = re.search(r"^(make test)\s+#", readme, re.M)[1]
    workflow = YAML(typ="safe", pure=True).load(ROOT / ".github/workflows/ci.yml")
    steps = workflow["jobs"]["test"]["steps"]
    assert any(step.get("run") == test_command for step in steps)
    report = "\n".join(step.get("run", "") for step in workflow["jobs"]["report"]["steps"])
    assert "dvc metrics diff main --md" in report and "dvc plots diff main" in report
    assert workflow["jobs"]["report"]["if"] == "github.event_name == 'pull_request'"
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_make_setup_torch_cpu_installs_the_pinned_torch_from_the_cpu_index(tmp_path):
    """README "PyTorch for your machine": `make setup TORCH=cpu` (dry run: no download)."""
    venv = tmp_path / "venv"
    command = ["make", "-n", "-B", "setup", "TORCH=cpu", f"VENV={venv}"]
    planned = subprocess.run(command, cwd=ROOT, capture_output=True, text=True).stdout
    cpu_line = next(line for line in planned.splitlines() if "download.pytorch.org" in line)
    assert "--index-url https://download.pytorch.org/whl/cpu" in cpu_line
    assert (
        "grep '^torch==' requirements.txt" in cpu_line
        and "torch==2.13.0" in (ROOT / "requirements.txt").read_text()
    )
    assert planned.index("download.pytorch.org") < planned.index("-r requirements-dev.txt")
    default = subprocess.run(command[:-2] + [f"VENV={venv}"], cwd=ROOT, capture_output=True)
    assert b"download.pytorch.org" not in default.stdout
    # the setup says what each step does, pip shows its downloads, the end says the venv's size
    steps = [line for line in planned.splitlines() if line.startswith('echo "setup')]
    assert [line.split(":")[0] for line in steps] == [
        'echo "setup 1/3',
        'echo "setup 2/3',
        'echo "setup 3/3',
        'echo "setup done',
    ]
    install = next(line for line in planned.splitlines() if "-r requirements-dev.txt" in line)
    assert " -q " not in install and "du -sh" in steps[-1]
