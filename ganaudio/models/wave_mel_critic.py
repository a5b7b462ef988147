"""WaveGAN's second critic: SpecGAN's 2D critic on the clip's log-mel spectrogram.

Why: the phase-shuffle critic judges raw samples, where a digit's identity (its formants over
time) is spread across thousands of samples; the measured cpu preset learned loudness envelopes
and broadband noise long before words (docs/WAVEGAN_EXPERIMENTS.md). GAN vocoders judge audio
in more than one view at once (MelGAN's multi-scale critics, HiFi-GAN's and UnivNet's period and
spectral ones). Here the second view is the one SpectoGAN learns digits from: the same
log-mel geometry as the mels stage, standardised per mel bin with the training clips' own
statistics, scored by SpecGAN's critic. The spectrogram is differentiable (torch.stft), so the
generator's gradient comes back through it.

`WaveMelCritic` returns both scores, (B, 2); every loss averages scores over all entries, so
hinge trains each critic on its own margin and the generator is pushed by both.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaudio.config import MelsConfig, SpectoGANModelConfig, WaveGANModelConfig
from ganaudio.data.mels import SpectrogramTransform, fit_stats
from ganaudio.models.specgan import SpecGANCritic
from ganaudio.models.wavegan import WaveGANCritic

GEOMETRY = MelsConfig()  # the cpu geometry: 64 mels x 64 frames of a 16,384-sample clip (hop 256)


def mel_statistics(waves: torch.Tensor, batch: int = 256) -> dict[str, torch.Tensor]:
    """Per-mel-bin mean and std of log-mel spectrograms of (N, 1, S) clips: what standardises the critic's view."""
    transform = SpectrogramTransform(GEOMETRY)
    with torch.no_grad():
        logs = torch.cat([transform(w[:, 0].float()) for w in waves.split(batch)])  # (N, M, T)
    stats = fit_stats(logs, GEOMETRY)
    return {"mean": stats.mean, "std": stats.std}


class LogMelView(nn.Module):
    """(B, 1, S) audio -> (B, 1, M, T) log-mel, standardised per bin and scaled by clip_std, unclipped
    (a clip would zero the gradient of every out-of-range bin of a young generator)."""

    def __init__(self, stats: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.transform = SpectrogramTransform(GEOMETRY)
        stats = stats or {"mean": torch.zeros(GEOMETRY.n_mels), "std": torch.ones(GEOMETRY.n_mels)}
        self.register_buffer("mean", stats["mean"].float().clone())  # saved: a resumed critic sees the same view
        self.register_buffer("std", stats["std"].float().clone())

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        log_mel = self.transform(audio[:, 0].float())  # (B, M, T), fp32 even under autocast
        return ((log_mel - self.mean[:, None]) / (self.std[:, None] * GEOMETRY.clip_std))[:, None]


class WaveMelCritic(nn.Module):
    def __init__(self, cfg: WaveGANModelConfig, data_shape: tuple[int, int] | None = None,
                 spectral_norm: bool = False, mel_stats: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.wave = WaveGANCritic(cfg, data_shape, spectral_norm=spectral_norm)
        self.view = LogMelView(mel_stats)
        spec_cfg = SpectoGANModelConfig(d=cfg.mel_critic_d, conditional=cfg.conditional, n_classes=cfg.n_classes)
        self.mel = SpecGANCritic(spec_cfg, (1, GEOMETRY.n_mels, GEOMETRY.n_frames), spectral_norm=spectral_norm)
        self.conditional = cfg.conditional

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, S) -> (B, 2): the phase-shuffle critic's score, then the log-mel critic's."""
        return torch.stack([self.wave(x, labels), self.mel(self.view(x), labels)], 1)
