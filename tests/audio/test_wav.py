"""One loudness normalisation for every WAV a listener compares."""

import numpy as np
import pytest
import soundfile as sf

from ganaudio.audio.wav import PEAK, TARGET_DBFS, gated_rms, normalise_loudness, write_wav

SR = 8000
TARGET = 10 ** (TARGET_DBFS / 20)


def tone(seconds=1.0, amp=0.5, f=220.0):
    t = np.arange(int(seconds * SR)) / SR
    return amp * np.sin(2 * np.pi * f * t)


@pytest.mark.parametrize("amp", [0.001, 0.05, 0.9])
def test_quiet_and_loud_clips_end_at_the_same_level(amp):
    out = normalise_loudness(tone(amp=amp), SR)
    assert gated_rms(out, SR) == pytest.approx(TARGET, rel=1e-3)


def test_silence_around_a_sound_does_not_change_its_level():
    x = tone()
    padded = np.concatenate([np.zeros(3 * SR), x, np.zeros(3 * SR)])
    a, b = normalise_loudness(x, SR), normalise_loudness(padded, SR)
    assert np.abs(b).max() == pytest.approx(np.abs(a).max(), rel=1e-3)


def test_a_peaky_clip_is_limited_below_full_scale():
    x = np.zeros(SR)
    x[::800] = 1.0  # clicks: a low RMS, so reaching the target level would clip
    out = normalise_loudness(x, SR)
    assert np.abs(out).max() == pytest.approx(PEAK) and gated_rms(out, SR) < TARGET


def test_silence_stays_silent_and_write_wav_is_16_bit_mono(tmp_path):
    assert not normalise_loudness(np.zeros(SR), SR).any()
    write_wav(tmp_path / "a.wav", tone(amp=0.01), SR)
    audio, sr = sf.read(tmp_path / "a.wav")
    assert sr == SR and audio.ndim == 1 and sf.info(tmp_path / "a.wav").subtype == "PCM_16"
    assert gated_rms(audio, SR) == pytest.approx(TARGET, rel=0.01)
