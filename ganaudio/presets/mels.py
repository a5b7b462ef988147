"""`mels` presets: the spectrogram geometry, read by the mels and waves stages."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "cpu": {"n_fft": 1024, "hop_length": 256, "n_mels": 64, "n_frames": 64},
    "paper": {"n_fft": 1024, "hop_length": 128, "n_mels": 128, "n_frames": 128},
}
