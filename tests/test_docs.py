"""The documentation stays whole: the README is short and starts with the two set-up commands, its links and the
site's nav point at pages that exist, every benchmark has its measured page, and every ``--help`` ends with the
page that explains it. (CI also builds the site with ``mkdocs build --strict``: broken links fail there.)"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
SETUP = ["bash install.sh && zeronas search", "python -m pytest -q"]


def _nav_pages(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return [page for item in node for page in _nav_pages(item)]


def nav_pages() -> list[str]:
    return _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])


def all_parsers(parser: argparse.ArgumentParser, name: str = "zeronas"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from all_parsers(sub, f"{name} {sub_name}")


def test_readme_is_short_and_starts_with_the_two_setup_commands():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    first_block = re.search(r"```\w*\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == SETUP


def test_readme_links_point_at_files_that_exist():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/measured/") for link in local)  # the figures link to their protocols
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_every_nav_page_exists_and_every_page_is_in_the_nav():
    pages = nav_pages()
    assert len(pages) == len(set(pages))
    assert not [page for page in pages if not (DOCS / page).is_file()]
    on_disk = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert not sorted(on_disk - set(pages)), "pages missing from mkdocs.yml's nav"


def test_every_benchmark_has_a_measured_page_naming_its_command():
    measured = " ".join(path.read_text() for path in (DOCS / "measured").glob("*.md"))
    scripts = sorted(path.name for path in (ROOT / "benchmarks").glob("*.py") if not path.name.startswith("_"))
    assert scripts
    assert not [s for s in scripts if f"python benchmarks/{s}" not in measured], "benchmarks without a measured page"


def test_api_reference_names_modules_that_exist():
    pages = (DOCS / "reference").glob("*.md")
    targets = [t for page in pages for t in re.findall(r"^::: (\S+)", page.read_text(), re.M)]
    assert "zeronas.spaces" in targets and "zeronas.proxies" in targets
    assert not [t for t in targets if importlib.util.find_spec(t) is None]


def test_every_help_ends_with_the_docs_page_that_explains_it():
    from zeronas.cli import build_parser

    pages = set(nav_pages())
    parsers = list(all_parsers(build_parser()))
    assert {"zeronas search", "zeronas compare", "zeronas analyze", "zeronas predict fit"} <= {n for n, _ in parsers}
    for name, parser in parsers:
        last = parser.format_help().strip().splitlines()[-1]
        named = re.fullmatch(r"documentation: docs/(\S+\.md)", last)
        assert named, f"`{name} --help` does not end with its docs page: {last!r}"
        assert named.group(1) in pages, f"`{name} --help` names docs/{named.group(1)}, which is not in the site"


@pytest.mark.parametrize("argv", [["--help"], ["search", "--help"], ["predict", "fit", "--help"]])
def test_help_as_printed_ends_with_the_page(argv, capsys):
    from zeronas.cli import main

    with pytest.raises(SystemExit):
        main(argv)
    assert re.search(r"documentation: docs/\S+\.md\n*$", capsys.readouterr().out)
