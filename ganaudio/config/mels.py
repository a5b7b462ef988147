"""The `mels` section: the clip geometry and spectrograms of the digit GANs (presets: ganaudio/presets/mels.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Optional

from ganaudio.config.core import Count, Invalid, NonNegative, Positive, Range, Share


@dataclass
class MelsConfig:
    preset: str = "cpu"
    sample_rate: Count = 16000
    n_fft: Annotated[int, Range(lo=2)] = 1024
    hop_length: Count = 256
    n_mels: Count = 64
    n_frames: Count = 64
    fmin: NonNegative = 0.0
    fmax: Optional[Positive] = 8000.0
    representation: Literal["mel", "linear"] = "mel"
    clip_std: Positive = 3.0  # SpecGAN: normalise per bin, clip at 3 std, scale to [-1, 1]
    batch_size: Count = 256
    max_failed_share: Share = 0.05  # unreadable, empty or silent clips skipped before the stage fails

    def validate(self) -> None:
        nyquist = self.sample_rate / 2
        if self.fmax is not None and self.fmax > nyquist:
            raise Invalid("fmax", self.fmax, f"null or <= sample_rate / 2 = {nyquist:g}")
        if self.fmin >= (self.fmax if self.fmax is not None else nyquist):
            raise Invalid("fmin", self.fmin, f"< fmax ({self.fmax if self.fmax is not None else nyquist:g})")
        n_fft = self.n_fft if self.representation == "mel" else 2 * self.n_mels  # see data/mels.py
        if self.hop_length >= n_fft:
            raise Invalid("hop_length", self.hop_length,
                          f"< the STFT size {n_fft} ({self.representation} mode), or frames skip samples")
