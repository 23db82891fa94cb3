"""The test tiers: the heavy marks are declared, `make test-fast` leaves out exactly them, and
a heavy test cannot go unmarked (it asks for the pipeline's fixture, or it takes too long)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import HEAVY_MARKS, command_env

ROOT = Path(__file__).resolve().parents[1]

# a conftest for a pytest run in a temporary folder: this suite's guards, and a stand-in for the
# pipeline's fixture that leaves a file behind if it is ever built
GUARDED = """
import importlib.util, sys
from pathlib import Path
import pytest
sys.path.insert(0, {tests!r})
spec = importlib.util.spec_from_file_location("suite_conftest", {conftest!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
pytest_runtest_setup = suite.pytest_runtest_setup
pytest_runtest_makereport = suite.pytest_runtest_makereport

def pytest_configure(config):
    for mark in suite.HEAVY_MARKS:
        config.addinivalue_line("markers", f"{{mark}}: heavy")

@pytest.fixture
def trained_project(request):
    with open({built!r}, "a") as built:
        built.write(request.node.name + "\\n")
"""

TESTS = """
import time
import pytest

def test_unmarked_and_quick():
    pass

def test_unmarked_asks_for_the_pipeline(trained_project):
    pass

def test_unmarked_and_slow():
    time.sleep(2)

@pytest.mark.training
def test_marked_and_slow():
    time.sleep(2)

@pytest.mark.pipeline
def test_marked_and_asks_for_the_pipeline(trained_project):
    pass
"""


def test_the_heavy_marks_are_declared_and_make_test_fast_leaves_them_out():
    pytest_config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    options = pytest_config["ini_options"]
    declared = {line.split(":")[0] for line in options["markers"]}
    assert declared == set(HEAVY_MARKS)
    assert "--strict-markers" in options["addopts"]
    makefile = (ROOT / "Makefile").read_text()
    fast = re.search(r"^test-fast:.*\n\tpytest -m \"(.*)\"$", makefile, re.M).group(1)
    assert fast == " and ".join(f"not {mark}" for mark in HEAVY_MARKS)


def test_an_unmarked_heavy_test_fails_with_what_to_do(tmp_path):
    built = tmp_path / "built"
    (tmp_path / "conftest.py").write_text(
        GUARDED.format(
            tests=str(ROOT / "tests"), conftest=str(ROOT / "tests/conftest.py"), built=str(built)
        )
    )
    (tmp_path / "test_tiers_example.py").write_text(TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-rA"],
        cwd=tmp_path,
        env={**command_env(), "TEXTCLF_FAST_TEST_LIMIT_S": "1"},
        capture_output=True,
        text=True,
    )
    output = result.stdout
    outcomes = {name: outcome for outcome, name in re.findall(r"^(\w+) \S+::(\w+)", output, re.M)}
    assert outcomes == {
        "test_unmarked_and_quick": "PASSED",
        "test_unmarked_asks_for_the_pipeline": "ERROR",
        "test_unmarked_and_slow": "FAILED",
        "test_marked_and_slow": "PASSED",
        "test_marked_and_asks_for_the_pipeline": "PASSED",
    }, output
    assert "uses trained_project: mark it @pytest.mark.pipeline" in output
    assert re.search(r"took 2 s \(the fast tier's limit is 1 s\): mark it with one of", output)
    # the guard refuses before the fixture is built: only the marked test built it
    assert built.read_text() == "test_marked_and_asks_for_the_pipeline\n"
