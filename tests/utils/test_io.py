"""Atomic writes: the renamed file has normal permissions (umask respected), no temp left behind."""

from __future__ import annotations

import os
import stat

import pytest

from ganaudio.utils.io import atomic_dir, atomic_path, write_json


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_get_0666_minus_umask(tmp_path, umask):
    write_json(tmp_path / "reports" / "m.json", {"a": 1})
    with atomic_path(tmp_path / "ckpt.pt") as tmp:
        tmp.write_bytes(b"x")
    for path in (tmp_path / "reports" / "m.json", tmp_path / "ckpt.pt"):
        assert mode(path) == 0o666 & ~umask, oct(mode(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt", "reports"]


def test_usual_umask_gives_0644_files_and_0755_folders(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "m.json", {})
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "x.bin").write_bytes(b"1")
    finally:
        os.umask(old)
    assert mode(tmp_path / "m.json") == 0o644
    assert mode(tmp_path / "out") == 0o755 and mode(tmp_path / "out" / "x.bin") == 0o644


def test_folders_get_0777_minus_umask(tmp_path, umask):
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("a")
    assert mode(tmp_path / "out") == 0o777 & ~umask
    assert (tmp_path / "out" / "a.txt").read_text() == "a"


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path):
    write_json(tmp_path / "m.json", {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "m.json") as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert (tmp_path / "m.json").read_text().strip().startswith("{")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
