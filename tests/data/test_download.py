"""download(): resume, retries, hashes, local sources; extract(): all-or-nothing and safe."""

from __future__ import annotations

import logging
import os

import pytest

from ganaudio.data.download import DownloadError, download, extract, obtain
from http_fixtures import SilentServer, sha256, tar_gz_bytes, write, zip_bytes

pytestmark = pytest.mark.usefixtures("no_backoff")

DATA = os.urandom(300_000)  # random bytes: any lost, doubled or flipped byte changes the hash


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- download

def test_download_writes_verified_file_and_no_part(server, tmp_path):
    url = server.add("a.bin", DATA)
    dest = download(url, tmp_path / "a.bin", sha256(DATA), progress=False)
    assert dest.read_bytes() == DATA
    assert leftovers(tmp_path) == ["a.bin"]
    assert [r.range for r in server.log] == [None]


def test_dropped_connection_resumes_with_range(server, tmp_path):
    url = server.add("a.bin", DATA)
    server.drop_after("a.bin", 100_000)
    dest = download(url, tmp_path / "a.bin", sha256(DATA), retries=2, progress=False)
    assert sha256(dest.read_bytes()) == sha256(DATA)
    first, second = server.requests_for("a.bin")
    assert first.range is None and first.sent == 100_000
    assert second.range == "bytes=100000-" and second.status == 206
    assert first.sent + second.sent == len(DATA)  # resumed, not restarted


def test_existing_part_resumes_on_next_run(server, tmp_path):
    url = server.add("a.bin", DATA)
    write(tmp_path / "a.bin.part", DATA[:1234])
    download(url, tmp_path / "a.bin", sha256(DATA), progress=False)
    (req,) = server.log
    assert req.range == "bytes=1234-" and req.sent == len(DATA) - 1234
    assert (tmp_path / "a.bin").read_bytes() == DATA


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    url = server.add("a.bin", DATA)
    server.ignore_range = True
    write(tmp_path / "a.bin.part", b"\0" * 5000)  # wrong bytes: appending the 200 body would break the hash
    dest = download(url, tmp_path / "a.bin", sha256(DATA), progress=False)
    assert dest.read_bytes() == DATA
    (req,) = server.log
    assert req.range == "bytes=5000-" and req.status == 200


def test_complete_part_with_416_is_kept(server, tmp_path):
    url = server.add("a.bin", DATA)
    write(tmp_path / "a.bin.part", DATA)
    dest = download(url, tmp_path / "a.bin", sha256(DATA), progress=False)
    assert dest.read_bytes() == DATA
    assert [r.status for r in server.log] == [416]


def test_gives_up_after_retries_and_keeps_part_for_later(server, tmp_path):
    url = server.add("a.bin", DATA)
    server.drop_after("a.bin", 1000, times=100)
    with pytest.raises(DownloadError, match=r"failed after 3 attempts.*resumes from .*a.bin.part \(3,000 bytes\)"):
        download(url, tmp_path / "a.bin", sha256(DATA), retries=2, progress=False)
    assert len(server.log) == 3
    assert not (tmp_path / "a.bin").exists()
    assert (tmp_path / "a.bin.part").read_bytes() == DATA[:3000]


def test_no_resume_promised_when_nothing_arrived(server, tmp_path):
    url = server.add("a.bin", DATA)
    server.drop_after("a.bin", 0, times=100)
    with pytest.raises(DownloadError) as e:
        download(url, tmp_path / "a.bin", sha256(DATA), retries=1, progress=False)
    assert "failed after 2 attempts" in str(e.value) and "resumes" not in str(e.value)
    assert leftovers(tmp_path) == []  # no empty .part to resume from


def test_refused_connection_promises_no_resume(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError) as e:
        download(f"http://127.0.0.1:{port}/a.bin", tmp_path / "a.bin", None, retries=1, progress=False)
    assert "\n" not in str(e.value) and "resumes" not in str(e.value)
    assert leftovers(tmp_path) == []


@pytest.mark.timeout(60)
def test_a_server_that_never_answers_costs_one_timeout_not_four(tmp_path):
    with SilentServer() as silent:
        with pytest.raises(DownloadError) as e:
            download(silent.url("a.bin"), tmp_path / "a.bin", None, timeout=0.3, retries=3, progress=False)
        assert silent.accepted == 1  # not retried: each retry would wait the whole timeout again
    msg = str(e.value)
    assert "\n" not in msg and "no answer within 0.3 s" in msg and "runtime.download_timeout_s" in msg
    assert "resumes" not in msg and leftovers(tmp_path) == []


def test_the_timeout_reaches_downloads_from_params(tmp_path, monkeypatch):
    from ganaudio.config import params_from_dict
    from ganaudio.tasks.data import fetch_maestro

    seen = {}

    def fake_obtain(source, cache_dir, sha, *, progress=True, timeout=None, retries=3):
        seen["timeout"] = timeout
        raise DownloadError("stop here")

    monkeypatch.setattr("ganaudio.data.maestro.obtain", fake_obtain)
    params = params_from_dict({"data": {"source": "official"}, "runtime": {"download_timeout_s": 7}})
    with pytest.raises(DownloadError, match="stop here"):
        fetch_maestro(params, tmp_path / "out", tmp_path / "cache")
    assert seen["timeout"] == 7.0


def test_http_404_is_a_clear_error_without_retries(server, tmp_path):
    with pytest.raises(DownloadError, match=r"HTTP 404.*params.yaml"):
        download(server.url("nope.zip"), tmp_path / "nope.zip", None, progress=False)
    assert len(server.log) == 1


def test_checksum_mismatch_names_file_and_both_hashes_and_cleans_up(server, tmp_path):
    url = server.add("a.bin", DATA)
    server.corrupt.add("a.bin")
    bad = sha256(DATA[:-1] + bytes([DATA[-1] ^ 0xFF]))
    with pytest.raises(DownloadError) as e:
        download(url, tmp_path / "a.bin", sha256(DATA), progress=False)
    msg = str(e.value)
    assert "\n" not in msg
    assert "a.bin" in msg and sha256(DATA) in msg and bad in msg and "params.yaml" in msg
    assert leftovers(tmp_path) == []


def test_unpinned_hash_is_logged_as_warning(server, tmp_path, caplog):
    url = server.add("a.bin", DATA)
    with caplog.at_level(logging.WARNING, logger="ganaudio.data.download"):
        download(url, tmp_path / "a.bin", None, progress=False)
    assert sha256(DATA) in caplog.text


def test_present_file_with_right_hash_makes_no_request(server, tmp_path):
    url = server.add("a.bin", DATA)
    write(tmp_path / "a.bin", DATA)
    download(url, tmp_path / "a.bin", sha256(DATA), progress=False)
    assert server.log == []


def test_a_wrong_pin_keeps_the_cached_archive_and_says_which_may_be_wrong(server, tmp_path):
    url = server.add("a.bin", DATA)
    write(tmp_path / "a.bin", DATA)
    wrong = "ab" * 32
    with pytest.raises(DownloadError) as e:
        download(url, tmp_path / "a.bin", wrong, progress=False)
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path / "a.bin") in msg
    assert wrong in msg and sha256(DATA) in msg and "pin is wrong" in msg and "delete it" in msg
    assert (tmp_path / "a.bin").read_bytes() == DATA  # kept
    assert server.log == []
    # fixing the pin is all it takes
    assert download(url, tmp_path / "a.bin", sha256(DATA), progress=False).read_bytes() == DATA
    assert server.log == []


def test_local_path_and_file_url_are_copied(tmp_path):
    src = write(tmp_path / "src" / "a.bin", DATA)
    for i, url in enumerate([str(src), src.as_uri()]):
        dest = download(url, tmp_path / f"out{i}" / "a.bin", sha256(DATA), progress=False)
        assert dest.read_bytes() == DATA
    with pytest.raises(DownloadError, match="not found"):
        download(str(tmp_path / "missing.zip"), tmp_path / "x.zip", None, progress=False)


def test_obtain_checks_a_local_file_in_place(tmp_path):
    src = write(tmp_path / "a.bin", DATA)
    assert obtain(str(src), tmp_path / "cache", sha256(DATA)) == src
    assert not (tmp_path / "cache").exists()
    with pytest.raises(DownloadError, match="sha256 mismatch.*params.yaml"):
        obtain(str(src), tmp_path / "cache", "0" * 64)
    assert src.exists()  # someone else's file: never deleted


# ---------------------------------------------------------------- extract

MEMBERS = {"top/a.txt": b"a", "top/sub/b.txt": b"bb", "other/c.txt": b"ccc"}


@pytest.mark.parametrize("pack,name", [(zip_bytes, "x.zip"), (tar_gz_bytes, "x.tar.gz")])
def test_extract_all_and_selected(tmp_path, pack, name):
    archive = write(tmp_path / name, pack(MEMBERS))
    out = extract(archive, tmp_path / "all", progress=False)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.txt")) == sorted(MEMBERS)
    assert (out / "top/sub/b.txt").read_bytes() == b"bb"
    renamed = extract(archive, tmp_path / "sel",
                      lambda n: "flat/" + n.rsplit("/", 1)[-1] if n.startswith("top/") else None,
                      progress=False)
    assert sorted(p.name for p in (renamed / "flat").iterdir()) == ["a.txt", "b.txt"]
    assert not (renamed / "other").exists()


def test_extracted_files_are_readable_by_others(tmp_path):
    import stat

    old = os.umask(0o022)
    try:
        extract(write(tmp_path / "x.zip", zip_bytes(MEMBERS)), tmp_path / "out", progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755  # not tempfile's private 0700
    assert stat.S_IMODE((tmp_path / "out" / "top" / "a.txt").stat().st_mode) == 0o644


def test_extract_replaces_existing_folder(tmp_path):
    archive = write(tmp_path / "x.zip", zip_bytes(MEMBERS))
    write(tmp_path / "out" / "stale.txt", b"old")
    extract(archive, tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "stale.txt").exists()
    assert leftovers(tmp_path) == ["out", "x.zip"]


@pytest.mark.parametrize("pack,name", [(zip_bytes, "x.zip"), (tar_gz_bytes, "x.tar.gz")])
@pytest.mark.parametrize("evil", ["../evil.txt", "top/../../evil.txt", "ABSOLUTE"])
def test_extract_rejects_path_traversal(tmp_path, pack, name, evil):
    if evil == "ABSOLUTE":  # inside tmp_path, so a broken check cannot write anywhere else
        evil = str(tmp_path / "evil.txt")
    archive = write(tmp_path / "in" / name, pack({"ok.txt": b"fine", evil: b"pwned"}))
    with pytest.raises(DownloadError, match="path traversal"):
        extract(archive, tmp_path / "work" / "out", progress=False)
    assert not (tmp_path / "work" / "out").exists()
    assert not list(tmp_path.rglob("evil.txt"))
    assert leftovers(tmp_path / "work") == []  # no temp folder left


@pytest.mark.parametrize("pack,name", [(zip_bytes, "x.zip"), (tar_gz_bytes, "x.tar.gz")])
def test_extract_truncated_archive_is_clear_and_leaves_nothing(tmp_path, pack, name):
    import numpy as np
    noise = {f"d/{i}.bin": np.random.default_rng(i).bytes(20_000) for i in range(5)}
    data = pack(noise)
    archive = write(tmp_path / "in" / name, data[: len(data) * 2 // 3])
    with pytest.raises(DownloadError, match=rf"{name} is truncated or corrupt.*delete it and run again"):
        extract(archive, tmp_path / "work" / "out", progress=False)
    assert leftovers(tmp_path / "work") == []
