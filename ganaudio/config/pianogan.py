"""The `pianogan` section (presets: ganaudio/presets/pianogan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional

from ganaudio.config.core import Count, Invalid, Positive, Range, Seed, Share
from ganaudio.config.train import TrainConfig


@dataclass
class PianoGANModelConfig:
    latent_dim: Count = 100
    d: Count = 32  # channel width multiplier
    seq_len: Annotated[int, Range(lo=2)] = 256
    kernel_size: Count = 25
    stride: Annotated[int, Range(lo=2)] = 4
    pitch_head: Literal["continuous", "categorical"] = "continuous"
    gumbel_tau: Positive = 1.0  # categorical head: temperature of the straight-through Gumbel-softmax's gradient
    pitch_sampling: Literal["softmax", "argmax"] = "softmax"  # categorical head: how samples pick a pitch
    time_head: Literal["continuous", "categorical"] = "continuous"  # step and duration: log value or one-hot bin
    time_bins: Annotated[int, Range(lo=16)] = 32  # categorical time head: log-spaced bins per feature (step 1 ms..4 s, duration 10 ms..8 s)
    key_latent: bool = False  # categorical pitch: a per-window key drawn from z biases every note by a learned profile
    global_bias: bool = False  # generator: per-sample logit biases from z shared by all notes (a key, a tempo)
    register_latent: bool = False  # categorical pitch: a per-window register (centre, width) from z bounds the pitches
    pitch_range_prior: bool = False  # categorical pitch: pitches outside the training range start 1000x less likely
    critic_summary: bool = False  # critic: a small MLP over per-window statistics (pitch-class and time histograms)
    minibatch_std: bool = False  # critic: append ProGAN's minibatch-std channel before the head

    def validate(self) -> None:
        if self.kernel_size < self.stride:
            raise Invalid("kernel_size", self.kernel_size, f">= stride ({self.stride})")
        if self.key_latent and self.pitch_head != "categorical":
            raise Invalid("key_latent", self.key_latent, "false unless pitch_head is categorical")
        if self.key_latent and self.latent_dim < 12:
            raise Invalid("latent_dim", self.latent_dim, ">= 12 with key_latent (one dimension per key)")


@dataclass
class PianoRenderConfig:
    n_samples: Count = 8
    interpolation_steps: Annotated[int, Range(lo=2)] = 8  # both ends included
    sample_rate: Count = 22050
    soundfont: Optional[str] = None  # a .sf2; None: $GANAUDIO_SOUNDFONT, a system GM font, else pretty_midi's TimGM6mb.sf2
    seed: Seed = 1


@dataclass
class PianoEvalConfig:
    n_samples: Annotated[int, Range(lo=2)] = 256  # generated windows per draw (and at most this many target windows); 2: a spread needs two
    seed: Seed = 2
    seeds: Annotated[int, Range(lo=2)] = 5  # draws per row (generators, baselines, reference): their spread is the noise
    copy_run: Annotated[int, Range(lo=2)] = 16  # notes: a verbatim training run this long makes a window a copy
    max_copy_share: Share = 0.05  # novelty gate: fail when this share of windows or more are copies


@dataclass
class PianoGANConfig:
    preset: str = "cpu"
    model: PianoGANModelConfig = field(default_factory=PianoGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    render: PianoRenderConfig = field(default_factory=PianoRenderConfig)
    eval: PianoEvalConfig = field(default_factory=PianoEvalConfig)
