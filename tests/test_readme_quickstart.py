"""The README's quickstart runs as written: each command of the fenced block after ``<!-- quickstart -->`` is
parsed out of README.md and run through the CLI on CPU, with only a tiny budget appended, so a renamed flag or
subcommand fails here rather than for a reader. The ground truth comes the way the README tells a reader to put
it: a table in zeronas's cache, where ``zeronas search`` finds it without flags."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

#: appended per subcommand: a tiny budget (one scorer), and CPU compute on the test session's *logical* GPUs
TINY = {
    "search": ["--budget", "12", "--top-k", "2", "--workers", "1", "--quiet", "--device", "cpu"],
    "compare": ["--budget", "12", "--top-k", "2", "--workers", "1", "--quiet", "--device", "cpu"],
    "analyze": ["--bootstrap", "20"],
    "report": ["--bootstrap", "20"],
}


def quickstart_commands(text: str) -> list[list[str]]:
    """The commands of the first fenced block after ``<!-- quickstart -->``, comments stripped."""
    found = re.search(r"<!-- quickstart -->\s*```\w*\n(.*?)```", text, re.S)
    if found is None:
        raise AssertionError("README.md has no fenced block after a '<!-- quickstart -->' line")
    return [argv for argv in (shlex.split(line, comments=True) for line in found.group(1).splitlines()) if argv]


def test_quickstart_block_is_parsed_with_its_comments_stripped():
    text = "intro\n<!-- quickstart -->\n```bash\nzeronas search   # one search\n\nzeronas analyze runs\n```\n"
    assert quickstart_commands(text) == [["zeronas", "search"], ["zeronas", "analyze", "runs"]]
    with pytest.raises(AssertionError, match="quickstart"):
        quickstart_commands("no marked block")


def test_quickstart_covers_a_search_a_comparison_and_its_analysis():
    subcommands = [argv[1] for argv in quickstart_commands(README.read_text())]
    assert {"search", "compare", "analyze"} <= set(subcommands)


@pytest.mark.slow
def test_the_readme_quickstart_runs_as_written(ray_session, tss_csv, tmp_path, monkeypatch, capsys):
    from zeronas.cli import main
    from zeronas.logs import open_log

    home = tmp_path / "home"
    (home / "benchmarks").mkdir(parents=True)
    (home / "benchmarks" / "tss.csv").symlink_to(tss_csv)  # what `zeronas benchmark export` leaves there
    monkeypatch.setenv("ZERONAS_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    commands = quickstart_commands(README.read_text())
    for argv in commands:
        assert argv[0] == "zeronas", f"a quickstart line that is not a zeronas command: {shlex.join(argv)}"
        line = shlex.join(argv)
        code = main([*argv[1:], *TINY.get(argv[1], [])])
        printed = capsys.readouterr()
        assert code == 0, f"README quickstart `{line}` exited {code}:\n{printed.err[-2000:]}"
    searches = sum(argv[1] == "search" for argv in commands)
    compared = [argv for argv in commands if argv[1] == "compare"]
    log = open_log([str(tmp_path / "zeronas-runs")]).to_table().to_pylist()
    returned = [row for row in log if row["stage"] == "test"]
    expected = searches + sum(
        len(argv[argv.index("--algos") + 1].split(",")) * int(argv[argv.index("--seeds") + 1]) for argv in compared
    )
    assert len(returned) == expected  # every search returned one arch, its test accuracy from the cached table
    assert all(row["accuracy"] is not None and 80 < row["accuracy"] < 95 for row in returned)
    if any(argv[1] == "analyze" and "--plots" in argv for argv in commands):
        assert list((tmp_path / "plots").glob("*.png"))
    for argv in commands:
        if argv[1] == "report":
            page = (tmp_path / argv[argv.index("--out") + 1]).read_text()
            assert "plotly" in page.lower() and all(row["arch"] in page for row in returned)
