"""The one atomic write (zeronas/_atomic.py): the old file or the whole new one, never a part."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import zeronas
from zeronas._atomic import atomic_directory, atomic_write


def test_writes_the_file_with_the_usual_mode_and_leaves_no_temp(tmp_path: Path):
    out = tmp_path / "a.bin"
    with atomic_write(out) as fh:
        fh.write(b"\x00\x01")
        assert not out.exists()  # nothing visible until the block ends
    assert out.read_bytes() == b"\x00\x01"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    with atomic_write(out, "w") as fh:
        fh.write("é\n")
    assert out.read_text(encoding="utf-8") == "é\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


@pytest.mark.parametrize("existing", [True, False])
def test_a_failure_leaves_the_old_file_or_none_and_no_temp(tmp_path: Path, existing: bool):
    out = tmp_path / "a.txt"
    if existing:
        out.write_text("old")
    with pytest.raises(OSError, match="disk full"):
        with atomic_write(out, "w") as fh:
            fh.write("half of the new")
            raise OSError("disk full")
    assert [p.name for p in tmp_path.iterdir()] == (["a.txt"] if existing else [])
    if existing:
        assert out.read_text() == "old"


def test_bad_mode_is_rejected(tmp_path: Path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "a", "a"):
            pass


def test_a_directory_appears_whole_or_not_at_all(tmp_path: Path):
    out = tmp_path / "model"
    with pytest.raises(OSError, match="disk full"):
        with atomic_directory(out) as tmp:
            (tmp / "a").write_text("half")
            raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []
    for content in ("first", "second"):  # the second replaces the first
        with atomic_directory(out) as tmp:
            (tmp / "a").write_text(content)
            assert not out.exists() or (out / "a").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["model"] and (out / "a").read_text() == "second"


#: functions that move a file or folder into place
_MOVES = {("os", "replace"), ("os", "rename"), ("os", "renames"), ("shutil", "move")}


def bare_moves(source: str) -> list[int]:
    """Lines of ``source`` that move a file or folder into place: ``os.replace/rename/renames``,
    ``shutil.move`` (called through the module or imported from it), ``x.rename(target)`` and
    ``x.replace(target)`` (``Path.replace`` takes one argument; ``str.replace`` takes two)."""
    imported = set()
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and any((node.module, a.name) in _MOVES for a in node.names):
            imported |= {a.asname or a.name for a in node.names if (node.module, a.name) in _MOVES}
            lines.append(node.lineno)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in imported:
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute):
            receiver = func.value.id if isinstance(func.value, ast.Name) else None
            if (receiver, func.attr) in _MOVES or func.attr == "rename":
                lines.append(node.lineno)
            elif func.attr == "replace" and len(node.args) == 1 and receiver != "dataclasses":
                lines.append(node.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.replace(a, b)",
        "import os\nos.rename(a, b)",
        "import shutil\nshutil.move(a, b)",
        "from os import replace\nreplace(a, b)",
        "tmp.rename(target)",
        "Path(tmp).replace(target)",
    ],
)
def test_the_check_catches_every_kind_of_move(source: str):
    assert bare_moves(source)


def test_the_check_leaves_string_and_dataclass_replace_alone():
    assert bare_moves("s.replace('a', 'b')\ndataclasses.replace(spec, x=1)\nd.replace(tzinfo=None)") == []


def test_no_module_moves_files_by_itself():
    """Every temp-file-or-folder-then-rename goes through zeronas/_atomic.py (one implementation)."""
    root = Path(zeronas.__file__).parent
    offenders = {
        str(p.relative_to(root)): bare_moves(p.read_text()) for p in root.rglob("*.py") if p.name != "_atomic.py"
    }
    assert {path: lines for path, lines in offenders.items() if lines} == {}
