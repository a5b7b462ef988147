"""mini-SC09 built by eSpeak NG: the layout, names and format of SC09, deterministic from a seed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ganaudio.config import EmbeddedSC09Config
from ganaudio.data.embedded import speech
from ganaudio.data.embedded.espeak import ESpeak, ESpeakError
from ganaudio.data.embedded.speech import (DIGITS, SPLITS, Speaker, build_mini_sc09, coloured_noise,
                                           make_clip, plan_speakers, trim_silence)

SC09_NAME = re.compile(r"^(Zero|One|Two|Three|Four|Five|Six|Seven|Eight|Nine)_[0-9a-f]{8}_nohash_\d+\.wav$")
CLIPS = 60


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two builds of the same seed: 2 workers and 1 worker, with small shards so each build
    runs several worker processes (the case where eSpeak's carried-over state would show)."""
    root = tmp_path_factory.mktemp("sc09")
    cfg = EmbeddedSC09Config(clips=CLIPS, seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(speech, "SHARD_CLIPS", 20)
        counts = build_mini_sc09(root / "a", cfg, workers=2, progress=False)
        counts_b = build_mini_sc09(root / "b", cfg, workers=1, progress=False)
    assert counts == counts_b
    return root, counts


def _wavs(d: Path) -> dict[str, list[Path]]:
    return {s: sorted((d / s).glob("*.wav")) for s in SPLITS}


def _parse(p: Path) -> tuple[str, str, int]:
    digit, spk, _, n = p.stem.split("_")
    return digit, spk, int(n)


# ---------------------------------------------------------------- the binding

def test_espeak_synthesizes_int16_whose_length_follows_rate():
    e = ESpeak.get()
    assert e.sample_rate == 22050
    slow = e.synthesize("seven", voice="en-us", rate=120)
    fast = e.synthesize("seven", voice="en-us", rate=300)
    assert slow.dtype == np.int16 and fast.dtype == np.int16
    assert np.abs(slow).max() > 3000  # speech, not near-silence
    assert len(slow) > 1.5 * len(fast) > 0


def test_espeak_lists_english_voices_and_variants_and_rejects_unknown_voice():
    e = ESpeak.get()
    voices = e.list_voices("en")
    assert "gmw/en-US" in voices and all("/en" in v for v in voices)
    assert {"f3", "m1", "klatt"} <= set(e.list_variants())
    with pytest.raises(ESpeakError, match="no voice 'xx-nope'"):
        e.synthesize("one", voice="xx-nope")


_SYNTH_AFTER_RESEED = """
import hashlib, sys
from ganaudio.data.embedded.espeak import ESpeak
e = ESpeak.get()
e.lib.espeak_ng_SetRandSeed(int(sys.argv[1]))  # eSpeak seeds it from the clock at start-up
x = e.synthesize("zero", voice="en-us", variant="f3", seed=1)
print(hashlib.sha1(x.tobytes()).hexdigest())
"""


def test_espeak_seed_fixes_breath_noise_whatever_the_rng_state_before():
    # Fresh processes, because within one process eSpeak also carries state between calls.
    def run(state: int) -> str:
        out = subprocess.run([sys.executable, "-c", _SYNTH_AFTER_RESEED, str(state)],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    assert run(11) == run(12345)


# ---------------------------------------------------------------- the data set

def test_layout_counts_and_names_match_sc09(built):
    root, counts = built
    out = root / "a"
    assert sorted(p.name for p in out.iterdir()) == ["speakers.csv", "test", "train", "valid"]
    wavs = _wavs(out)
    assert {s: len(f) for s, f in wavs.items()} == counts
    assert sum(counts.values()) == CLIPS
    assert counts["train"] > counts["valid"] > 0 and counts["test"] > 0
    for files in wavs.values():
        for p in files:
            assert SC09_NAME.match(p.name), p.name
    # nothing left behind beside out_dir (temp build folders)
    assert sorted(p.name for p in root.iterdir()) == ["a", "b"]


def test_every_file_is_one_second_16k_mono_pcm16(built):
    root, _ = built
    for files in _wavs(root / "a").values():
        for p in files:
            info = sf.info(p)
            assert (info.samplerate, info.channels, info.frames, info.subtype, info.format) == \
                   (16000, 1, 16000, "PCM_16", "WAV"), p.name


def test_all_digits_in_train_and_speakers_disjoint_across_splits(built):
    root, _ = built
    wavs = _wavs(root / "a")
    assert {_parse(p)[0] for p in wavs["train"]} == set(DIGITS)
    spk = {s: {_parse(p)[1] for p in f} for s, f in wavs.items()}
    assert not (spk["train"] & spk["valid"]) and not (spk["train"] & spk["test"]) \
        and not (spk["valid"] & spk["test"])
    table = pd.read_csv(root / "a" / "speakers.csv", dtype={"speaker": str})
    assert list(table.columns) == ["speaker", "split", "voice", "variant", "pitch", "range", "rate", "clips"]
    for s in SPLITS:
        assert set(table.loc[table.split == s, "speaker"]) == spk[s]
    assert table.clips.sum() == CLIPS


def test_repeats_are_numbered_per_speaker_and_digit(built):
    root, _ = built
    seen: dict[tuple[str, str], list[int]] = {}
    for files in _wavs(root / "a").values():
        for p in files:
            digit, spk, n = _parse(p)
            seen.setdefault((digit, spk), []).append(n)
    assert all(sorted(ns) == list(range(len(ns))) for ns in seen.values())
    assert any(len(ns) > 1 for ns in seen.values())  # some speaker says a digit twice


def test_same_seed_gives_identical_bytes_whatever_the_workers(built):
    root, _ = built
    a, b = _wavs(root / "a"), _wavs(root / "b")
    for s in SPLITS:
        assert [p.name for p in a[s]] == [p.name for p in b[s]]
        for pa, pb in zip(a[s], b[s]):
            assert pa.read_bytes() == pb.read_bytes(), pa.name
    assert (root / "a" / "speakers.csv").read_bytes() == (root / "b" / "speakers.csv").read_bytes()


def test_clips_hold_speech_well_above_the_noise_floor(built):
    root, _ = built
    for files in _wavs(root / "a").values():
        for p in files:
            x, _ = sf.read(p, dtype="float32")
            rms = np.sqrt(np.mean(x.reshape(50, 320) ** 2, axis=1))  # 20 ms frames
            assert np.abs(x).max() > 0.2, p.name  # peak gain is -12..0 dB
            assert 20 * np.log10(rms.max() / rms.min()) > 15, p.name


def test_rebuild_replaces_existing_folder(tmp_path):
    out = tmp_path / "sc09"
    (out / "train").mkdir(parents=True)
    (out / "train" / "stale.wav").write_bytes(b"old")
    counts = build_mini_sc09(out, EmbeddedSC09Config(clips=30, seed=1), workers=1, progress=False)
    assert not (out / "train" / "stale.wav").exists()
    assert sum(len(list((out / s).glob("*.wav"))) for s in SPLITS) == sum(counts.values()) == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sc09"]


def test_too_few_clips_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="fetch_sc09.embedded.clips is 5"):
        build_mini_sc09(tmp_path / "x", EmbeddedSC09Config(clips=5), progress=False)
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- pieces

def _log_bands(x: np.ndarray) -> np.ndarray:
    """Mean power in 16 bands of 500 Hz, as log10 shares: level-free (clips have random gains)."""
    frames = np.lib.stride_tricks.sliding_window_view(x, 512)[::256] * np.hanning(512)  # (F, 512)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2)[:, :256].mean(0)  # (256,)
    bands = power.reshape(16, 16).sum(1)  # (16,)
    return np.log10(bands / bands.sum())


def test_different_words_give_clearly_different_spectra():
    # noise far down, so the spectra compare the words themselves, not the noise colour
    e = ESpeak.get()
    spk = Speaker("00000000", "train", "en-us", "m3", 50, 60, 170, ())

    def clip(word, i):
        return make_clip(e, word, spk, np.random.default_rng(i), -90.0).astype(np.float32) / 32768

    ones = [_log_bands(clip("one", i)) for i in range(3)]
    sixes = [_log_bands(clip("six", i)) for i in range(3, 6)]
    same = max(np.abs(a - b).mean() for a, b in [(ones[0], ones[1]), (ones[0], ones[2]), (sixes[0], sixes[1])])
    diff = min(np.abs(a - b).mean() for a in ones for b in sixes)
    assert diff > 4 * same
    # "six" has its /s/ above 4 kHz; "one" is nearly all below
    assert min(s[8:].max() for s in sixes) > max(o[8:].max() for o in ones) + 1.0


def test_plan_splits_about_80_10_10_with_unique_ids():
    spk = plan_speakers(3200, 0, ["en-us", "en"], ["f1", "m1"])
    assert sum(len(s.digits) for s in spk) == 3200
    share = {sp: sum(len(s.digits) for s in spk if s.split == sp) / 3200 for sp in SPLITS}
    assert abs(share["train"] - 0.8) < 0.02 and abs(share["valid"] - 0.1) < 0.02
    ids = [s.speaker for s in spk]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{8}", i) for i in ids)
    counts = np.bincount([d for s in spk for d in s.digits], minlength=10)
    assert counts.max() - counts.min() <= 1  # balanced digits
    assert plan_speakers(3200, 1, ["en-us", "en"], ["f1", "m1"])[0].speaker != ids[0]


def test_trim_silence_keeps_the_sound_and_drops_the_quiet():
    tone = 0.5 * np.sin(np.arange(8000) * 0.1).astype(np.float32)
    y = np.concatenate([np.zeros(4000, np.float32), tone, np.zeros(6000, np.float32)])
    t = trim_silence(y)
    assert 8000 <= len(t) <= 8000 + 2 * 512
    assert np.abs(t).max() == np.abs(tone).max()


def test_coloured_noise_has_unit_rms_and_the_right_tilt():
    rng = np.random.default_rng(0)
    white, brown = coloured_noise(16000, 0.0, rng), coloured_noise(16000, 2.0, rng)
    assert abs(np.sqrt(np.mean(white ** 2)) - 1) < 1e-3 and abs(np.sqrt(np.mean(brown ** 2)) - 1) < 1e-3

    def low_share(x):
        p = np.abs(np.fft.rfft(x)) ** 2
        return p[:400].sum() / p.sum()  # below 400 Hz

    assert low_share(brown) > 0.9 > 0.1 > low_share(white)


@pytest.mark.parametrize("clips", [30, 31, 47, 60, 99])
def test_small_plans_give_every_split_a_speaker_and_train_every_digit(clips):
    for seed in range(10):
        spk = plan_speakers(clips, seed, ["en"], ["f1"])
        assert sum(len(s.digits) for s in spk) == clips
        assert {s.split for s in spk} == set(SPLITS)
        assert {d for s in spk if s.split == "train" for d in s.digits} == set(range(10))
