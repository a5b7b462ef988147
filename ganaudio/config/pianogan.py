"""The `pianogan` section (presets: ganaudio/presets/pianogan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional

from ganaudio.config.core import Count, Invalid, NonNegative, Positive, Range, Seed, Share
from ganaudio.config.train import TrainConfig


@dataclass
class PianoGANModelConfig:
    latent_dim: Count = 100
    d: Count = 32  # channel width multiplier
    seq_len: Annotated[int, Range(lo=2)] = 256
    kernel_size: Count = 25
    stride: Annotated[int, Range(lo=2)] = 4
    pitch_head: Literal["continuous", "categorical"] = "continuous"
    gumbel_tau: Positive = 1.0  # categorical heads: temperature of the softmax behind the one-hot's gradient
    # categorical heads: what the critic sees in training: gumbel (a Gumbel-softmax draw per note),
    # argmax (straight-through argmax) or softmax (the distribution itself; samples take its argmax)
    train_notes: Literal["gumbel", "argmax", "softmax"] = "gumbel"
    pitch_sampling: Literal["softmax", "argmax"] = "softmax"  # categorical heads: how samples pick each note
    time_head: Literal["continuous", "categorical"] = "continuous"  # step and duration: log value or one-hot bin
    time_bins: Annotated[int, Range(lo=16)] = 32  # categorical time head: log-spaced bins per feature (step 1 ms..4 s, duration 10 ms..8 s)
    key_latent: bool = False  # categorical pitch: a per-window key drawn from z biases every note by a learned profile
    global_bias: bool = False  # generator: per-sample logit biases from z shared by all notes (a key, a tempo)
    register_latent: bool = False  # categorical pitch: a per-window register (centre, width) from z bounds the pitches
    pitch_range_prior: bool = False  # categorical pitch: pitches outside the training range start 1000x less likely
    critic_summary: bool = False  # critic: a small MLP over per-window statistics (pitch-class and time histograms)
    minibatch_std: bool = False  # critic: append ProGAN's minibatch-std channel before the head
    position_noise: bool = False  # generator: per-position noise after each upsampling layer (StyleGAN-style)
    head_norm_gain: NonNegative = 0.0  # categorical heads: 0 off; else they read h normalised over positions x this gain
    critic_order: bool = False  # critic (categorical pitch): an MLP over pitch-class transitions and intervals
    # conv: every note at once from z (models/pianogan.py); rnn: one note at a time given the
    # notes before it (models/piano_rnn.py, the peer's LSTM; needs categorical pitch and time heads)
    generator: Literal["conv", "rnn"] = "conv"
    rnn_embed: Count = 64
    rnn_hidden: Count = 256
    rnn_layers: Count = 2
    peer_init: bool = False  # rnn: start from the autoregressive peer's weights (maximum likelihood), then train adversarially

    def validate(self) -> None:
        if self.kernel_size < self.stride:
            raise Invalid("kernel_size", self.kernel_size, f">= stride ({self.stride})")
        if self.generator == "rnn" and not (self.pitch_head == self.time_head == "categorical"):
            raise Invalid("generator", self.generator, "conv unless pitch_head and time_head are categorical")
        if self.peer_init and self.generator != "rnn":
            raise Invalid("peer_init", self.peer_init, "false unless generator is rnn (the peer is an LSTM)")
        if self.train_notes != "gumbel" and self.pitch_sampling != "argmax":
            raise Invalid("pitch_sampling", self.pitch_sampling,
                          f"argmax with train_notes {self.train_notes} (softmax draws notes the critic never judged)")
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
class PianoPeerConfig:
    """The autoregressive peer (models/note_lstm.py): an LSTM trained by maximum likelihood on the
    same windows, for about the cpu preset's minutes, scored as the evaluation's `autoregressive` row."""

    embed: Count = 64
    hidden: Count = 256
    layers: Count = 2
    time_bins: Annotated[int, Range(lo=16)] = 32  # the GAN's step/duration grid
    batch_size: Count = 32
    lr: Positive = 2e-3
    steps: Count = 6000
    log_every: Count = 50
    temperature: Positive = 1.0  # sampling: 1 plays the learned distribution as it is
    seed: Seed = 0


@dataclass
class PianoGANConfig:
    preset: str = "cpu"
    model: PianoGANModelConfig = field(default_factory=PianoGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    peer: PianoPeerConfig = field(default_factory=PianoPeerConfig)
    render: PianoRenderConfig = field(default_factory=PianoRenderConfig)
    eval: PianoEvalConfig = field(default_factory=PianoEvalConfig)

    def validate(self) -> None:
        m, p = self.model, self.peer
        if m.peer_init and (m.rnn_embed, m.rnn_hidden, m.rnn_layers, m.time_bins) != (p.embed, p.hidden, p.layers, p.time_bins):
            raise Invalid("model.peer_init", m.peer_init,
                          "false unless model.rnn_embed/rnn_hidden/rnn_layers/time_bins equal peer.embed/hidden/layers/time_bins")
