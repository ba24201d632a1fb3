"""The one atomic write (zeronas/_atomic.py): the old file or the whole new one, never a part."""

from __future__ import annotations

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


def test_no_module_renames_files_by_itself():
    """Every temp-file-then-rename goes through atomic_write (one implementation)."""
    root = Path(zeronas.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "_atomic.py" and "os.replace(" in p.read_text()
    ]
    assert offenders == []
