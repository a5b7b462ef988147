"""The `wavegan` section (presets: ganaudio/presets/wavegan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional

from ganaudio.config.core import Count, Range
from ganaudio.config.spectogan import SpectoEvalConfig, SpectoRenderConfig
from ganaudio.config.train import TrainConfig


@dataclass
class WaveGANModelConfig:
    latent_dim: Count = 100
    d: Count = 64  # channel width multiplier: 16d channels after the dense layer
    critic_d: Optional[Count] = None  # the critic's width multiplier; None: d (the paper's symmetric pair)
    kernel_size: Annotated[int, Range(lo=2)] = 25
    stride: Annotated[int, Range(lo=2)] = 4  # five layers: 16 · 4^5 = 16,384 samples
    upsample: Literal["transposed", "nearest"] = "transposed"  # nearest: stride-x nearest + conv, no checkerboard
    # samples: the paper's, five upsamplings to 16,384 samples. istft: upsample to STFT frames (hop
    # istft_hop) and let a convolution write each frame's log-magnitude and phase, which an inverse
    # STFT turns into the waveform (Vocos, iSTFTNet): models/wavegan.py
    output: Literal["samples", "istft"] = "samples"
    istft_hop: Annotated[int, Range(lo=4)] = 64  # n_fft = 4 hops (a Hann window, 75 % overlap)
    phase_shuffle: Annotated[int, Range(lo=0)] = 2  # critic: each example shifted by a random -n..n samples between layers; 0: off
    conditional: bool = False
    n_classes: Annotated[int, Range(lo=2)] = 10
    minibatch_std: bool = False  # critic: ProGAN's minibatch-std channel before the head, as SpectoGAN's
    # A second critic on the clip's log-mel spectrogram (SpecGAN's, width mel_critic_d), beside the
    # phase-shuffle one: models/wave_mel_critic.py
    mel_critic: bool = False
    mel_critic_d: Count = 16


@dataclass
class WaveGANConfig:
    """Render and eval settings are SpectoGAN's classes: one protocol judges both digit GANs."""

    preset: str = "cpu"
    model: WaveGANModelConfig = field(default_factory=WaveGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    render: SpectoRenderConfig = field(default_factory=SpectoRenderConfig)
    eval: SpectoEvalConfig = field(default_factory=SpectoEvalConfig)
