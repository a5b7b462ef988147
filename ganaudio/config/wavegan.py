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
    kernel_size: Annotated[int, Range(lo=2)] = 25
    stride: Annotated[int, Range(lo=2)] = 4  # five layers: 16 · 4^5 = 16,384 samples
    phase_shuffle: Annotated[int, Range(lo=0)] = 2  # critic: each example shifted by a random -n..n samples between layers; 0: off
    conditional: bool = False
    n_classes: Annotated[int, Range(lo=2)] = 10
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
