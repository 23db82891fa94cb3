"""The `textclf` command: one entry point with a subcommand per tool; the old
`python -m textclf.<tool>` commands keep working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

COMMAND = str(Path(sys.executable).parent / "textclf")
TOOLS = ("quick", "check", "results", "exps", "predict", "serve", "compare", "search", "select")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_help_lists_every_subcommand():
    result = run(COMMAND, "--help")
    assert result.returncode == 0, result.stderr
    for tool in TOOLS:
        assert f"\n  {tool} " in result.stdout


@pytest.mark.parametrize("tool", TOOLS)
def test_each_subcommand_has_its_help_and_its_old_module(tool):
    new = run(COMMAND, tool, "--help")
    assert new.returncode == 0, new.stderr
    assert new.stdout.startswith(f"usage: textclf {tool} ")
    old = run(sys.executable, "-m", f"textclf.{tool}", "--help")
    assert old.returncode == 0, old.stderr
    assert (
        old.stdout.replace("\n", " ").split("options:")[1]
        == new.stdout.replace("\n", " ").split("options:")[1]
    )


@pytest.mark.parametrize("tool", TOOLS)
def test_each_help_describes_the_command_in_whole_sentences(tool):
    text = run(COMMAND, tool, "--help").stdout
    described = text.split("\n\n")[1]  # after the usage lines
    if not described.startswith(("positional arguments:", "options:")):
        assert described.rstrip()[-1] in ".?)", described


def test_python_m_textclf_is_the_command():
    result = run(sys.executable, "-m", "textclf", "--version")
    assert result.returncode == 0 and result.stdout.startswith("textclf "), result


def test_mistakes_are_one_error_line():
    unknown = run(COMMAND, "trian")
    assert unknown.returncode != 0
    assert unknown.stderr.strip() == (
        "error: unknown command 'trian' (expected one of: quick, check, results, exps, predict, "
        "score, serve, compare, search, select)"
    )
    bad_value = run(COMMAND, "predict", "--batch-size", "-1", "x")
    assert bad_value.returncode == 2
    assert bad_value.stderr.strip().startswith("error: argument --batch-size")
    assert "\n" not in bad_value.stderr.strip()
    assert run(COMMAND).returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve", "--port", "99999"), "error: argument --port: must be a TCP port, 0 to 65535"),
        (("serve", "--max-batch", "0"), "error: argument --max-batch: must be a positive integer"),
        (("serve", "--max-wait-ms", "nan"), "error: argument --max-wait-ms: must be a number of"),
        (("serve", "--max-queue", "0"), "error: argument --max-queue: must be a positive integer"),
        (
            ("serve", "--max-batch-tokens", "-5"),
            "error: argument --max-batch-tokens: must be a positive integer",
        ),
        (("compare", "workspace", "workspace"), "error: A and B are the same runs (workspace)"),
        (("compare", "a,b", "b,a"), "error: A and B are the same runs (a,b)"),
        (("compare", "s1,s1,s2", "t1"), "error: s1 is listed twice in 's1,s1,s2'"),
    ],
)
def test_bad_arguments_are_one_line_before_any_work(tmp_path, args, message):
    result = subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith(message), result.stderr
    assert "\n" not in result.stderr.strip()
