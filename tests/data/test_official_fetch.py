"""fetch_maestro / fetch_sc09 end to end against tiny archives in the official layouts on 127.0.0.1."""

from __future__ import annotations

import pretty_midi
import pytest
import soundfile as sf

from ganaudio.config import FetchMaestroConfig, FetchSC09Config
from ganaudio.data.download import DownloadError
from ganaudio.data.maestro import MAESTRO_V3_MIDI_SHA256, fetch_maestro
from ganaudio.data.sc09 import SPEECH_COMMANDS_V2_SHA256, fetch_sc09, sc09_name
from http_fixtures import (MAESTRO_PIECES, SC09_PREMADE, maestro_zip, sc09_tar, sha256,
                           speech_commands_tar, write)

pytestmark = pytest.mark.usefixtures("no_backoff")

UNREACHABLE = "http://127.0.0.1:9/never.zip"  # discard port: a request here would fail loudly


def names(folder):
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- MAESTRO

def test_fetch_maestro_happy_path(server, tmp_path):
    data = maestro_zip()
    cfg = FetchMaestroConfig(url=server.add("v3/maestro-v3.0.0-midi.zip", data), sha256=sha256(data))
    root = fetch_maestro(cfg, tmp_path / "raw" / "maestro", tmp_path / "cache", progress=False)
    assert root == tmp_path / "raw" / "maestro" / "maestro-v3.0.0"
    assert names(tmp_path / "raw" / "maestro") == ["maestro-v3.0.0"]  # no __MACOSX, no staging
    assert names(root) == sorted(["maestro-v3.0.0.csv", "maestro-v3.0.0.json", "2004", "2006", "2011", "2018"])
    for *_, year, stem in MAESTRO_PIECES:
        pm = pretty_midi.PrettyMIDI(str(root / str(year) / f"{stem}.midi"))
        assert len(pm.instruments[0].notes) == 4
    assert names(tmp_path / "cache") == ["maestro-v3.0.0-midi.zip"]
    assert names(tmp_path / "raw") == ["maestro"]

    # a second run finds the verified zip in the cache: no request
    fetch_maestro(cfg, tmp_path / "raw" / "maestro", tmp_path / "cache", progress=False)
    assert len(server.log) == 1


def test_fetch_maestro_defaults_to_the_pinned_hash(server, tmp_path):
    assert len(MAESTRO_V3_MIDI_SHA256) == 64 and len(SPEECH_COMMANDS_V2_SHA256) == 64
    cfg = FetchMaestroConfig(url=server.add("maestro-v3.0.0-midi.zip", maestro_zip()), sha256=None)
    with pytest.raises(DownloadError, match=rf"maestro-v3.0.0-midi.zip.*{MAESTRO_V3_MIDI_SHA256}.*params.yaml"):
        fetch_maestro(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert not (tmp_path / "out").exists()
    assert names(tmp_path / "cache") == []


def test_fetch_maestro_local_path_uses_no_network(tmp_path):
    data = maestro_zip()
    local = write(tmp_path / "dl" / "maestro-v3.0.0-midi.zip", data)
    cfg = FetchMaestroConfig(url=UNREACHABLE, sha256=sha256(data), local_path=str(local))
    root = fetch_maestro(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert (root / "maestro-v3.0.0.csv").is_file()
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("kwargs,match", [
    ({"extra_rows": 2}, r"2 of 6 listed MIDI files are missing \(first: 2004/missing_0.midi\)"),
    ({"drop_columns": ("split",)}, r"missing columns \['split'\]"),
])
def test_fetch_maestro_rejects_an_inconsistent_archive(tmp_path, kwargs, match):
    data = maestro_zip(**kwargs)
    local = write(tmp_path / "maestro.zip", data)
    write(tmp_path / "out" / "keep.txt", b"previous good data")
    cfg = FetchMaestroConfig(sha256=sha256(data), local_path=str(local))
    with pytest.raises(DownloadError, match=match):
        fetch_maestro(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert names(tmp_path / "out") == ["keep.txt"]  # out_dir untouched
    assert names(tmp_path) == ["maestro.zip", "out"]  # no staging left


def test_fetch_maestro_truncated_zip_leaves_nothing(tmp_path):
    data = maestro_zip()[:-200]
    cfg = FetchMaestroConfig(sha256=sha256(data), local_path=str(write(tmp_path / "m.zip", data)))
    with pytest.raises(DownloadError, match="m.zip is truncated or corrupt"):
        fetch_maestro(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert names(tmp_path) == ["m.zip"]


# ---------------------------------------------------------------- SC09

EXPECTED_SC09 = {
    "train": ["Nine_6a81a664_nohash_0.wav", "One_0a2b400e_nohash_0.wav", "One_5f709553_nohash_2.wav",
              "Zero_0a2b400e_nohash_0.wav", "Zero_3d5e7331_nohash_1.wav"],
    "valid": ["One_4e6f8442_nohash_0.wav", "Zero_1b3c511f_nohash_0.wav"],
    "test": ["Nine_7b92b775_nohash_0.wav", "Zero_2c4d6220_nohash_0.wav"],
}


def test_sc09_name():
    assert sc09_name("zero/0a2b400e_nohash_0.wav") == "Zero_0a2b400e_nohash_0.wav"


def test_only_digit_clips_and_lists_are_extracted():
    from ganaudio.data.sc09 import _speech_commands_member as keep
    assert keep("./nine/6a81a664_nohash_0.wav") == "nine/6a81a664_nohash_0.wav"
    assert keep("./validation_list.txt") == "validation_list.txt"
    assert keep("testing_list.txt") == "testing_list.txt"
    for skipped in ["./bed/0a2b400e_nohash_0.wav", "./_background_noise_/white_noise.wav",
                    "./LICENSE", "./zero", "./zero/x/y.wav"]:
        assert keep(skipped) is None


def test_fetch_sc09_from_speech_commands(server, tmp_path):
    data = speech_commands_tar()
    cfg = FetchSC09Config(url=server.add("speech_commands_v0.02.tar.gz", data), sha256=sha256(data))
    out = tmp_path / "raw" / "sc09"
    counts = fetch_sc09(cfg, out, tmp_path / "cache", progress=False)
    assert counts == {s: len(v) for s, v in EXPECTED_SC09.items()}
    assert names(out) == ["test", "train", "valid"]
    for split, expected in EXPECTED_SC09.items():
        assert names(out / split) == expected
    wav, sr = sf.read(out / "valid" / "Zero_1b3c511f_nohash_0.wav", dtype="int16")
    assert sr == 16000 and wav.ndim == 1 and len(wav) == 800
    assert names(tmp_path / "raw") == ["sc09"]  # no staging/raw folders left
    assert names(tmp_path / "cache") == ["speech_commands_v0.02.tar.gz"]


def test_fetch_sc09_local_path_uses_no_network(tmp_path):
    data = speech_commands_tar()
    local = write(tmp_path / "speech_commands_v0.02.tar.gz", data)
    cfg = FetchSC09Config(url=UNREACHABLE, sha256=sha256(data), local_path=str(local))
    counts = fetch_sc09(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert counts == {"train": 5, "valid": 2, "test": 2}


def test_fetch_sc09_from_premade_archive_by_url_and_by_path(server, tmp_path):
    data = sc09_tar()
    url = server.add("sc09.tar.gz", data)
    by_url = FetchSC09Config(url=UNREACHABLE, sc09_archive=url, sc09_sha256=sha256(data))
    counts = fetch_sc09(by_url, tmp_path / "a", tmp_path / "cache", progress=False)
    assert counts == {s: len(v) for s, v in SC09_PREMADE.items()}
    for split, expected in SC09_PREMADE.items():
        assert names(tmp_path / "a" / split) == sorted(expected)

    local = write(tmp_path / "dl" / "sc09.tar.gz", data)
    by_path = FetchSC09Config(url=UNREACHABLE, sc09_archive=str(local), sc09_sha256=sha256(data))
    assert fetch_sc09(by_path, tmp_path / "b", tmp_path / "cache", progress=False) == counts
    assert len(server.log) == 1


def test_fetch_sc09_replaces_previous_output(tmp_path):
    data = sc09_tar()
    write(tmp_path / "out" / "train" / "Zero_stale_nohash_0.wav", b"old")
    cfg = FetchSC09Config(sc09_archive=str(write(tmp_path / "sc09.tar.gz", data)), sc09_sha256=sha256(data))
    fetch_sc09(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert "Zero_stale_nohash_0.wav" not in names(tmp_path / "out" / "train")


def test_fetch_sc09_truncated_archive_leaves_nothing(tmp_path):
    data = speech_commands_tar()
    data = data[: len(data) // 2]
    cfg = FetchSC09Config(sha256=sha256(data), local_path=str(write(tmp_path / "sc.tar.gz", data)))
    with pytest.raises(DownloadError, match=r"sc.tar.gz is truncated or corrupt .*; delete it and run again"):
        fetch_sc09(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert names(tmp_path) == ["sc.tar.gz"]


def test_fetch_sc09_wrong_archive_is_a_clear_error(tmp_path):
    data = maestro_zip()
    cfg = FetchSC09Config(sha256=sha256(data), local_path=str(write(tmp_path / "x.zip", data)))
    with pytest.raises(DownloadError, match="validation_list.txt is missing"):
        fetch_sc09(cfg, tmp_path / "out", tmp_path / "cache", progress=False)
    assert names(tmp_path) == ["x.zip"]
