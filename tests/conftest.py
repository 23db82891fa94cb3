from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from fixtures import CLASSES, build_tiny_bert, news_rows, write_news_csv
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
# What a clone of the project holds that the pipeline needs (outputs are made by `dvc repro`).
PROJECT_FILES = ["dvc.yaml", "params.yaml", "src", ".gitignore", ".dvc/config", "Makefile"]
PIPELINE_STAGES = {
    "code",
    "download",
    "prepare",
    "tokenize",
    "train",
    "evaluate",
    "baseline",
    "quality_folds",
    "quality",
    "compare",
    "export",
    "package",
    "distill",
    "score",
}


# The test tiers: a test that runs a pipeline, a training or a search carries the mark (declared
# in pyproject.toml); `make test-fast` runs the rest. Two guards keep a heavy test from going
# unmarked: one that asks for a fixture built by running the pipeline fails at once, and one
# whose setup and call take longer than FAST_LIMIT_S fails with what to do.
HEAVY_MARKS = ("pipeline", "training", "search")
HEAVY_FIXTURES = {"trained_project": "pipeline"}
# generous: this machine's speed drifts 2-4x over minutes, and a guard must not flake
FAST_LIMIT_S = float(os.environ.get("TEXTCLF_FAST_TEST_LIMIT_S", "45"))
SETUP_TIME = pytest.StashKey[float]()


def is_heavy(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(mark) for mark in HEAVY_MARKS)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if is_heavy(item):
        return
    for fixture, mark in HEAVY_FIXTURES.items():
        if fixture in getattr(item, "fixturenames", ()):
            pytest.fail(f"{item.nodeid} uses {fixture}: mark it @pytest.mark.{mark}", False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "setup":
        item.stash[SETUP_TIME] = call.duration
    elif report.when == "call" and report.passed and not is_heavy(item):
        took = item.stash.get(SETUP_TIME, 0.0) + call.duration
        if took > FAST_LIMIT_S:
            report.outcome = "failed"
            report.longrepr = (
                f"{item.nodeid} took {took:.0f} s (the fast tier's limit is {FAST_LIMIT_S:.0f} s): "
                f"mark it with one of {', '.join(HEAVY_MARKS)}, or make it faster"
            )
    return report


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder built by `build` once per test session, however many pytest-xdist workers
    ask for it (they share the session's base temporary folder); treat it as read-only."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the workers' common folder
    folder, done = shared / name, shared / f"{name}.done"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a built project (git, DVC cache, outputs) for a test that changes it."""
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def news_csvs(tmp_path_factory) -> dict[str, Path]:
    def build(folder: Path) -> None:
        write_news_csv(folder / "train.csv", news_rows(480, seed=0))
        write_news_csv(folder / "test.csv", news_rows(120, seed=1))

    folder = built_once(tmp_path_factory, "news", build)
    return {"train": folder / "train.csv", "test": folder / "test.csv"}


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    texts = [f"{title} {description}" for _, title, description in news_rows(480, seed=0)]
    return built_once(tmp_path_factory, "tiny-bert", lambda folder: build_tiny_bert(folder, texts))


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory, tiny_bert) -> Path:
    """The tiny BERT with a new (untrained) head, saved as the train stage saves a checkpoint,
    with the AG News layout's text settings (see tests/scoring.py)."""
    from scoring import saved_classifier

    return built_once(
        tmp_path_factory, "tiny-classifier", lambda folder: saved_classifier(folder, tiny_bert)
    )


@pytest.fixture(scope="session")
def tiny_student(tmp_path_factory, tiny_classifier) -> Path:
    """A static student of tiny_classifier, its head random (see tests/scoring.py)."""
    from scoring import static_student

    return built_once(
        tmp_path_factory, "tiny-student", lambda folder: static_student(folder, tiny_classifier)
    )


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, news_csvs, tiny_bert) -> Path:
    """The whole pipeline run once on the fixtures (`dvc repro`, committed): tests that read it
    share it; tests that change it take a `copy_project` of it."""

    def build(folder: Path) -> None:
        make_project(folder / "repo", fixture_params(news_csvs, tiny_bert))
        assert repro(folder / "repo") == PIPELINE_STAGES
        run(["git", "add", "-A"], folder / "repo")
        run(["git", "commit", "-qm", "first run"], folder / "repo")

    return built_once(tmp_path_factory, "trained", build) / "repo"


def fixture_params(news_csvs: dict[str, Path], model_dir: Path) -> dict:
    """params.yaml overrides that make the pipeline run on the fixtures in seconds."""
    return {
        "data": {
            "train_url": str(news_csvs["train"]),
            "test_url": news_csvs["test"].as_uri(),
            "classes": CLASSES,
        },
        "model": {"name": str(model_dir)},
        "tokenize": {"max_length": 64},
        "train": {
            "epochs": 3,
            "batch_size": 16,
            "learning_rate": 5e-3,
            "logging_steps": 10,
            "warmup_ratio": 0.1,
            "min_steps": 0,  # the epochs as given (tests of train.min_steps set it)
        },
        # no student: tests/test_distill.py makes both kinds, make quick the default one
        "distill": {"student": "none"},
    }


def update_params(project: Path, overrides: dict) -> None:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    path = project / "params.yaml"
    params = yaml.load(path)
    for section, values in overrides.items():
        params.setdefault(section, {}).update(values)
    yaml.dump(params, path)


# Set when the suite itself runs under `make test`; a user's shell has none of them, and a nested
# make would print "Entering/Leaving directory" lines around what the tests read.
OUTER_MAKE_VARIABLES = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")


def command_env() -> dict[str, str]:
    """A user's shell: this interpreter's environment first on PATH, so `dvc` and its stages use
    it, and no trace of an outer make."""
    env = {key: value for key, value in os.environ.items() if key not in OUTER_MAKE_VARIABLES}
    return {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=command_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def make_project(folder: Path, overrides: dict) -> Path:
    """A fresh git + DVC repository holding a copy of this project, params overridden."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source, target = ROOT / name, folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(source, target)
    run(["git", "init", "-q"], folder)
    run(["git", "config", "user.email", "tests@example.com"], folder)
    run(["git", "config", "user.name", "tests"], folder)
    run(["dvc", "init", "-q", "--force"], folder)
    shutil.copy2(ROOT / ".dvc/config", folder / ".dvc/config")
    update_params(folder, overrides)
    run(["git", "add", "-A"], folder)
    run(["git", "commit", "-qm", "project"], folder)
    return folder


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w-]+)'", output))


def repro(project: Path, *args: str) -> set[str]:
    """Run `dvc repro` and return the names of the stages that ran."""
    return stages_run(run(["dvc", "repro", *args], project).stdout)


def digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def stage_error(stage: str, cwd: Path) -> str:
    """Run `python -m textclf.stages.<stage>` expecting failure; return its one-line stderr."""
    result = subprocess.run(
        [sys.executable, "-m", f"textclf.stages.{stage}"], cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == 1, result.stderr
    message = result.stderr.strip()
    assert "\n" not in message, message
    return message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(model_folder: Path, *flags: str) -> Iterator[str]:
    """`python -m textclf.serve` for `model_folder` on a free loopback port, once its model is
    loaded (`/ready`); yields its URL."""
    with server_process(model_folder, *flags) as (url, _):
        yield url


@contextlib.contextmanager
def server_process(model_folder: Path, *flags: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """As `serving`, yielding the URL and the server's process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "textclf.serve", "--model", str(model_folder)]
        + ["--host", "127.0.0.1", "--port", str(port), "--max-batch", "64", *flags],
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {process.stderr.read().decode()}")
            try:
                urllib.request.urlopen(f"{url}/ready", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):  # HTTPError 503: still loading
                time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
