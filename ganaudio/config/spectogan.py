"""The `spectogan` section (presets: ganaudio/presets/spectogan.py); WaveGAN renders and is judged by its render and eval classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional

from ganaudio.config.core import Beta, Count, Invalid, Range, Seed
from ganaudio.config.train import TrainConfig


@dataclass
class SpectoGANModelConfig:
    latent_dim: Count = 100
    d: Count = 64
    kernel_size: Annotated[int, Range(lo=2)] = 5  # >= the stride of 2
    conditional: bool = False
    n_classes: Annotated[int, Range(lo=2)] = 10
    upsample: Literal["transposed", "nearest"] = "transposed"  # nearest: 2x nearest + conv, no checkerboard
    minibatch_std: bool = False  # critic: append ProGAN's minibatch-std channel before the head


@dataclass
class InversionConfig:
    n_iter: Count = 32
    momentum: Beta = 0.99  # fast Griffin-Lim (Perraudin et al. 2013); 1 or more diverges


@dataclass
class SpectoRenderConfig:
    n_samples: Count = 16
    interpolation_steps: Annotated[int, Range(lo=2)] = 8  # both ends included
    seed: Seed = 1


@dataclass
class SpectoEvalConfig:
    n_samples: Annotated[int, Range(lo=2)] = 50000  # FID and nearest-neighbour distances need two
    is_splits: Count = 10
    ndb_bins: Annotated[int, Range(lo=2)] = 50
    seed: Seed = 2

    def validate(self) -> None:
        if self.is_splits > self.n_samples:
            raise Invalid("is_splits", self.is_splits, f"<= n_samples ({self.n_samples})")


@dataclass
class SpectoGANConfig:
    preset: str = "cpu"
    model: SpectoGANModelConfig = field(default_factory=SpectoGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    inversion: InversionConfig = field(default_factory=InversionConfig)
    render: SpectoRenderConfig = field(default_factory=SpectoRenderConfig)
    eval: SpectoEvalConfig = field(default_factory=SpectoEvalConfig)
