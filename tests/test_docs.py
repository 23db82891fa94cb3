"""The docs: README.md is a short entry with a map of docs/, every page is in the mkdocs site,
and `mkdocs build --strict` passes (a broken link or anchor fails it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS = [sys.executable, "-m", "mkdocs", "build", "--strict"]


def build(project: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MKDOCS, "--config-file", str(project / "mkdocs.yml"), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )


def test_mkdocs_build_strict_passes_and_fails_on_a_broken_link(tmp_path):
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site/index.html").is_file()
    assert (tmp_path / "site/search/search_index.json").is_file()  # the site is searchable

    broken = tmp_path / "broken"
    shutil.copytree(DOCS, broken / "docs")
    shutil.copy2(ROOT / "mkdocs.yml", broken / "mkdocs.yml")
    page = broken / "docs/params.md"
    page.write_text(page.read_text() + "\nSee [the pipeline](pipeline.md#no-such-heading).\n")
    assert build(broken, tmp_path / "broken-site").returncode != 0
    page.write_text(page.read_text() + "\nSee [a page](no-such-page.md).\n")
    assert build(broken, tmp_path / "broken-site").returncode != 0


def test_every_page_is_in_the_site_and_in_the_readme_map():
    nav = YAML(typ="safe", pure=True).load(ROOT / "mkdocs.yml")["nav"]
    in_nav = {next(iter(entry.values())) for entry in nav}
    pages = {path.name for path in DOCS.glob("*.md")}
    assert in_nav == pages
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", readme))
    assert linked == pages


def test_readme_is_a_short_entry_with_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert re.search(r"^make repro\s+#", readme, re.M) and re.search(
        r"^make test\s+#", readme, re.M
    )


def test_the_quick_cpu_run_is_the_same_in_readme_and_docs():
    def quick_run(text: str) -> str:
        return re.search(r"## Quick CPU run\n(.*?)\n## ", text, re.S)[1].strip()

    assert quick_run((ROOT / "README.md").read_text()) == quick_run((DOCS / "index.md").read_text())
