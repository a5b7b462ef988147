"""Writing listenable WAVs: one loudness normalisation for every clip a person compares.

Real and generated clips are written side by side for listening; if one were louder, it would
sound better for that alone. Every WAV therefore goes through `normalise_loudness`: scaled to
the same gated RMS level (the level of the clip's sounding parts, so a clip with long silences
is not boosted), then turned down if its peak would clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from ganaudio.utils.io import atomic_path

TARGET_DBFS = -20.0  # gated RMS level of every written clip
PEAK = 0.89  # about -1 dBFS: the most any sample may reach
GATE_DB = 40.0  # frames more than this below the loudest frame do not count towards the level
FRAME_S = 0.05


def gated_rms(audio: np.ndarray, sample_rate: int) -> float:
    """RMS over the frames within GATE_DB of the loudest 50 ms frame (0 for silence)."""
    audio = np.asarray(audio, np.float64).reshape(-1)
    n = max(int(FRAME_S * sample_rate), 1)
    frames = audio[: len(audio) // n * n].reshape(-1, n) if len(audio) >= n else audio.reshape(1, -1)
    power = (frames ** 2).mean(1)  # (frames,)
    if len(power) == 0 or power.max() <= 0:
        return 0.0
    loud = power >= power.max() * 10 ** (-GATE_DB / 10)
    return float(np.sqrt(power[loud].mean()))


def normalise_loudness(audio: np.ndarray, sample_rate: int, target_dbfs: float = TARGET_DBFS,
                       peak: float = PEAK) -> np.ndarray:
    """(S,) audio at `target_dbfs` gated RMS, then scaled down so no sample exceeds `peak`."""
    audio = np.asarray(audio, np.float64).reshape(-1)
    level = gated_rms(audio, sample_rate)
    if level == 0.0:
        return audio
    audio = audio * (10 ** (target_dbfs / 20) / level)
    top = np.abs(audio).max()
    return audio * (peak / top) if top > peak else audio


def write_wav(path: str | os.PathLike, audio, sample_rate: int) -> Path:
    """Loudness-normalise `audio` (S,) (an array or a CPU tensor) and write it as 16-bit mono WAV, atomically.

    Every WAV the project writes goes through here, so generated and real clips of a listening
    pair differ only by what made them, not by level."""
    if hasattr(audio, "detach"):
        audio = audio.detach().cpu().numpy()
    audio = normalise_loudness(np.asarray(audio, np.float64), sample_rate)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), audio.astype(np.float32), sample_rate, subtype="PCM_16", format="WAV")
    return Path(path)
