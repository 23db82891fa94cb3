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
    # the quick path first: the command a newcomer runs before anything else
    assert re.search(r"^make quick\s+#", readme, re.M) and re.search(
        r"^make test\s+#", readme, re.M
    )
    assert readme.index("make quick") < readme.index("make repro")


def test_the_quick_start_commands_are_the_same_in_readme_and_docs():
    def commands(text: str) -> str:
        return re.search(r"## Quick start\n.*?```bash\n(.*?)```", text, re.S)[1]

    assert commands((ROOT / "README.md").read_text()) == commands((DOCS / "index.md").read_text())


# what people read on GitHub: the README, the docs and the other Markdown files of the repo
PAGES = sorted(
    path
    for path in ROOT.rglob("*.md")
    if not {".venv", "node_modules", ".git", ".pytest_cache"} & set(path.relative_to(ROOT).parts)
    and path.relative_to(ROOT).parts[0] not in ("data", "metrics", "models", "site")
    or path.relative_to(ROOT) in (Path("data/README.md"), Path("metrics/README.md"))
)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def prose(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading (mkdocs' toc makes the same for these pages)."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, line in prose(path.read_text()):
        if match := re.match(r"#{1,6} (.+)", line):
            name, number = slug(match[1]), 1
            while name in found:  # a repeated heading gets -1, -2, ...
                name, number = f"{slug(match[1])}-{number}", number + 1
            found.add(name)
    return found


def cells(row: str) -> int:
    """Cells of a table row as GitHub splits it: on every bar not escaped with a backslash."""
    return len(re.findall(r"(?<!\\)\|", row.strip().strip("|"))) + 1


def test_every_page_renders_its_tables_and_links_resolve():
    import markdown

    assert {ROOT / "README.md", DOCS / "pipeline.md", ROOT / "bench/RESULTS.md"} <= set(PAGES)
    for page in PAGES:
        text, where = page.read_text(), page.relative_to(ROOT)
        lines = prose(text)
        for index, (number, line) in enumerate(lines):
            starts = line.startswith("|") and not (index and lines[index - 1][1].startswith("|"))
            if starts:  # a table: a header row, then the delimiter row, then rows alike
                table = [row for _, row in lines[index:]]
                table = table[
                    : next((i for i, r in enumerate(table) if not r.startswith("|")), None)
                ]
                assert len(table) >= 2 and re.fullmatch(r"\|( *:?-+:? *\|)+", table[1]), (
                    f"{where}:{number}: a table without a header row"
                )
                widths = {cells(row) for row in table}
                assert widths == {cells(table[0])}, f"{where}:{number}: rows of {widths} cells"
            for target in LINK.findall(line):
                if re.match(r"[a-z]+:", target):
                    continue  # a web address
                file, _, anchor = target.partition("#")
                linked = (page.parent / file).resolve() if file else page
                assert linked.exists(), f"{where}:{number}: {target} does not resolve"
                if anchor:
                    assert anchor in anchors(linked), f"{where}:{number}: no heading #{anchor}"
        html = markdown.markdown(text, extensions=["tables", "fenced_code"])
        # a table Markdown did not recognise comes out as a paragraph of bars
        assert not re.search(r"<p>\|", html), f"{where}: a table that does not render"
        # mkdocs shows an escaped bar inside code literally, with its backslash
        if page.parent == DOCS:
            assert "\\|" not in text, f"{where}: an escaped bar shows its backslash on the site"


def test_the_page_checker_finds_a_broken_table_and_link(tmp_path):
    broken = tmp_path / "page.md"
    broken.write_text("| a | b |\n| c | d |\n\nSee [x](missing.md) and [y](#nowhere).\n")
    lines = prose(broken.read_text())
    assert not re.fullmatch(r"\|( *:?-+:? *\|)+", lines[1][1])
    assert not (tmp_path / LINK.findall(lines[3][1])[0]).exists()
    assert "nowhere" not in anchors(broken)
    assert slug("Quick CPU run") == "quick-cpu-run" and slug("`textclf select`") == "textclf-select"


def test_the_distill_default_is_stated_one_way():
    """The default student as the code has it, wherever the docs or the stage say it."""
    from textclf.config.distill_params import DistillParams

    default = DistillParams().student
    stage = (ROOT / "src/textclf/stages/distill.py").read_text()
    assert f"{default} (the default)" in stage
    assert f"the {default} student by default" in (ROOT / "docs/pipeline.md").read_text()
    params = YAML(typ="safe").load(ROOT / "params.yaml")
    assert params["distill"]["student"] == default
    row = next(
        line
        for line in (ROOT / "docs/params.md").read_text().splitlines()
        if line.startswith("| `distill.student` |")
    )
    assert row.startswith(f"| `distill.student` | `{default}` |")
    for page in (ROOT / "docs").glob("*.md"):
        assert "none (the default" not in page.read_text(), page.name
    assert (
        "none (the default" not in stage
        and "none (the default" not in (ROOT / "dvc.yaml").read_text()
    )
