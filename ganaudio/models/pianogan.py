"""PianoGAN: a WaveGAN-style 1D convolutional GAN over windows of notes.

A window has four features per note, (pitch, step, duration, velocity), standardised by the
`notes` stage. Each feature reaches the critic either as one continuous channel or as a
one-hot group (`NoteEncoding`):
- pitch: `pitch_head` "continuous" (rounded to a semitone when rendered; a rounded value
  cannot hold a scale, neighbouring semitones are equally cheap) or "categorical", 128 MIDI
  pitches.
- step and duration: `time_head` "continuous" (log seconds) or "categorical", `time_bins`
  log-spaced bins each. Real steps are bimodal (chord notes ~0 s, melody ~0.1-0.4 s); a
  continuous head trained briefly lands between the modes, a categorical one picks a mode.
- velocity: always continuous.
One-hot groups are made in training by a straight-through Gumbel-softmax (hard forward, soft
gradient backward); real windows are encoded the same way by the dataset (`NoteEncoding.encode`).
The generator ends in plain linear convs, not tanh (standardised step/duration are heavy-tailed),
and has no batch norm, following WaveGAN. Either way, `features(z)` gives the (B, 4, L)
standardised features that rendering and evaluation denormalise.

Window-level options, for what a stack of local convolutions learns slowly:
- `key_latent` (generator, categorical pitch): a key k in 0..11 per window, drawn from z as a
  Gumbel-max sample of learned key logits (so a function of z: seeded, interpolable), given
  to the dense layer as a one-hot and adding a learned key-relative pitch-class profile,
  rotated to k, to every note's pitch logits. Independent per-note draws cannot hold a key
  otherwise: real windows are ~97% in one scale, a 128-way softmax per note gave ~65%.
- `global_bias` (generator): a linear map from z to logit biases shared by every note of the
  window: 12 pitch-class biases tiled over the octaves (a key) and one per time bin (a tempo).
- `register_latent` (generator, categorical pitch): a per-window register, a centre and a width
  from z, adding -((v - centre) / width)^2 / 2 to every note's pitch logits, where v is each
  pitch's standardised value. Real windows keep to a register (they span 37-49 of the training
  set's 50 semitones); independent per-note softmax draws reach every pitch the tails allow. It
  starts at the data's mean pitch with the width of the data's pitch spread (a linear map from z
  initialised at zero), so it first only trims the far tails, and training moves it per window.
- `pitch_range_prior` (generator, categorical pitch): the pitch head's bias starts at log(1e-3)
  for every MIDI pitch outside the training range (`NoteStats.pitch_min..pitch_max`), as the key
  prior starts the key logits at the data's frequencies. Without it, 77 of the 128 classes lie
  outside the range and a fresh generator puts ~60 % of its notes there; the critic then spends
  its first thousand steps teaching the range instead of the music (measured: still 56 % at step
  250). Only the starting point: training may move these biases like any other.
- `critic_summary` (critic): an MLP over per-window statistics of its input (pitch-class
  histogram, time-bin histograms, mean and std of continuous channels), beside the conv path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ganaudio.config import PianoGANModelConfig
from ganaudio.models.layers import LEAK, down1d, minibatch_std, sn, up1d

FEATURES = ("pitch", "step", "duration", "velocity")
N_FEATURES = 4
N_PITCHES = 128  # MIDI pitches, the categorical pitch head's classes
N_PITCH_CLASSES = 12
# Categorical time heads: bin 0 is [0, lo), then log-spaced edges up to hi, the last bin open.
TIME_RANGES = {"step": (1e-3, 4.0), "duration": (1e-2, 8.0)}  # seconds; step bin 0 holds chord notes
EMBED_PER_GROUP = 16  # the critic's 1x1 embedding width per one-hot group: the k-tap conv reads these
MIN_START = 4  # the dense layer's output length: upsample from here by `stride` per layer
OUT_OF_RANGE_PRIOR = 1e-3  # pitch_range_prior: starting odds of a pitch outside the training range


def time_edges(name: str, n_bins: int) -> np.ndarray:
    """Inner bin edges (n_bins - 1,) in seconds for `step` or `duration`."""
    if n_bins < 3:
        raise ValueError(f"pianogan.model.time_bins {n_bins} is too few; use 16 or more")
    lo, hi = TIME_RANGES[name]
    return np.geomspace(lo, hi, n_bins - 1)


def time_values(name: str, n_bins: int) -> np.ndarray:
    """(n_bins,) seconds each bin stands for: lo/2 for bin 0, geometric centres, hi·sqrt(ratio) last."""
    e = time_edges(name, n_bins)
    ratio = e[1] / e[0]
    return np.concatenate([[e[0] / 2], np.sqrt(e[:-1] * e[1:]), [e[-1] * np.sqrt(ratio)]])


def time_bin_index(name: str, n_bins: int, seconds: np.ndarray) -> np.ndarray:
    """Bin of each raw step/duration in seconds (any shape) -> int64 of the same shape."""
    return np.digitize(np.asarray(seconds, np.float64), time_edges(name, n_bins)).astype(np.int64)


@dataclass(frozen=True)
class NoteEncoding:
    """How a window is shown to the critic: per feature, 1 continuous channel or a one-hot group."""

    pitch_one_hot: bool = False
    time_bins: int = 0  # 0: step and duration continuous

    @classmethod
    def of(cls, cfg: PianoGANModelConfig) -> "NoteEncoding":
        return cls(pitch_one_hot=cfg.pitch_head == "categorical",
                   time_bins=cfg.time_bins if cfg.time_head == "categorical" else 0)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Channels per feature in FEATURES order, e.g. (128, 32, 32, 1)."""
        t = self.time_bins or 1
        return (N_PITCHES if self.pitch_one_hot else 1, t, t, 1)

    @property
    def channels(self) -> int:
        return sum(self.sizes)

    @property
    def categorical(self) -> tuple[bool, ...]:
        return tuple(size > 1 for size in self.sizes)

    def indices(self, raw: np.ndarray) -> dict[str, np.ndarray]:
        """Class index of every one-hot feature of raw windows (..., L, 4) -> {name: (..., L) int64}."""
        out = {}
        if self.pitch_one_hot:
            pitch = np.rint(raw[..., 0])
            if pitch.min() < 0 or pitch.max() > N_PITCHES - 1:
                raise ValueError(f"pitches outside MIDI 0..127 ({pitch.min():.0f}..{pitch.max():.0f})")
            out["pitch"] = pitch.astype(np.int64)
        if self.time_bins:
            for i, name in ((1, "step"), (2, "duration")):
                out[name] = time_bin_index(name, self.time_bins, raw[..., i])
        return out

    def encode(self, indices: dict[str, torch.Tensor], standardised: torch.Tensor) -> torch.Tensor:
        """One window: class indices {name: (L,)} + standardised features (4, L) -> (channels, L)."""
        parts = []
        for i, (name, size) in enumerate(zip(FEATURES, self.sizes)):
            if size == 1:
                parts.append(standardised[i:i + 1])
            else:
                parts.append(nn.functional.one_hot(indices[name], size).T.to(standardised.dtype))
        return torch.cat(parts, 0)


def plan(seq_len: int, stride: int) -> tuple[int, int]:
    """(number of upsampling layers, starting length) with start · stride**n == seq_len."""
    n = 0
    while seq_len % stride ** (n + 1) == 0 and seq_len // stride ** (n + 1) >= MIN_START:
        n += 1
    if n == 0:
        raise ValueError(f"pianogan.model.seq_len {seq_len} is not a multiple of {stride * MIN_START} "
                         f"(stride {stride} x {MIN_START}); use a seq_len like 256")
    return n, seq_len // stride ** n


def widths(d: int, n: int) -> list[int]:
    return [max(16 * d // 2 ** i, 1) for i in range(n + 1)]  # 16d, 8d, 4d, …


def in_channels(cfg: PianoGANModelConfig) -> int:
    """Channels of what the critic sees, e.g. 4 (all continuous) or 131 (one-hot pitch + 3)."""
    return NoteEncoding.of(cfg).channels


def tile_pitch_classes(bias: torch.Tensor) -> torch.Tensor:
    """(B, 12) pitch-class values -> (B, 128): MIDI pitch p gets bias[p % 12]."""
    reps = -(-N_PITCHES // N_PITCH_CLASSES)
    return bias.repeat(1, reps)[:, :N_PITCHES]


def fold_pitch_classes(x: torch.Tensor) -> torch.Tensor:
    """(B, 128, ...) per-pitch values -> (B, 12, ...) summed per pitch class."""
    reps = -(-N_PITCHES // N_PITCH_CLASSES)
    pad = reps * N_PITCH_CLASSES - N_PITCHES
    x = nn.functional.pad(x.movedim(1, -1), (0, pad))  # (B, ..., 132)
    return x.unflatten(-1, (reps, N_PITCH_CLASSES)).sum(-2).movedim(-1, 1)


def apply_pitch_range_prior(bias: torch.Tensor, pitch_range: tuple[int, int]) -> None:
    """Start pitches outside the training range at OUT_OF_RANGE_PRIOR odds: a (128,) pitch-logit bias, in place.

    Why: an untrained head spreads its mass over all 128 MIDI pitches, most of which piano
    music never plays; a GAN spends its first minutes only learning that (screen 6).
    """
    outside = torch.ones(N_PITCHES, dtype=torch.bool)
    outside[pitch_range[0]:pitch_range[1] + 1] = False
    with torch.no_grad():
        bias[outside] += float(np.log(OUT_OF_RANGE_PRIOR))


def register_values(module: nn.Module, groups, values: dict | None) -> None:
    """Buffers `<name>_values` (size,): the standardised value of each class of each one-hot group
    (name, size), zeros where `values` lacks it. Buffers, so checkpoints carry them and
    `load_generator` rebuilds a generator that decodes its notes without the notes stage's stats."""
    values = values or {}
    for name, size in groups:
        v = torch.as_tensor(values[name]).float() if name in values else torch.zeros(size)
        if v.shape != (size,):
            raise ValueError(f"{name} values must be ({size},), got {tuple(v.shape)}")
        module.register_buffer(f"{name}_values", v.clone())


class PianoGenerator(nn.Module):
    def __init__(self, cfg: PianoGANModelConfig, values: dict[str, torch.Tensor] | None = None,
                 key_prior: tuple | None = None, pitch_range: tuple[int, int] | None = None):
        """`values` {name: (classes,)}: the standardised value of each class of every one-hot feature.

        They are buffers (`<name>_values`), so checkpoints carry them; `load_generator` builds
        with zeros placeholders and the state dict fills them in. `key_prior` (key frequencies,
        key-relative pitch-class frequencies), e.g. from `metrics.music.key_statistics` of the
        training windows, initialises `key_logits` and `key_profile` to their logs, as one sets
        an output bias to the data's log-frequencies: training starts in key instead of
        having to discover keys from the critic's gradient (measured: it did not in 1,600 steps).
        `pitch_range` (lowest, highest MIDI pitch of the training windows) is what
        `pitch_range_prior` needs; like `key_prior`, only a fresh build uses it.
        """
        super().__init__()
        self.latent_dim = cfg.latent_dim
        self.encoding = NoteEncoding.of(cfg)
        self.tau, self.pitch_sampling, self.train_notes = cfg.gumbel_tau, cfg.pitch_sampling, cfg.train_notes
        n, self.start = plan(cfg.seq_len, cfg.stride)
        ch = widths(cfg.d, n)
        self.key = cfg.key_latent and self.encoding.pitch_one_hot
        if cfg.key_latent and not self.key:
            raise ValueError("pianogan.model.key_latent needs pitch_head: categorical")
        if self.key and cfg.latent_dim < N_PITCH_CLASSES:
            raise ValueError(f"pianogan.model.key_latent needs latent_dim >= 12, got {cfg.latent_dim}")
        if self.key:
            self.key_logits = nn.Parameter(torch.zeros(N_PITCH_CLASSES))  # how often each key occurs
            self.key_profile = nn.Parameter(torch.zeros(N_PITCH_CLASSES))  # pitch-class logits relative to the key
            if key_prior is not None:
                with torch.no_grad():
                    for param, freq in zip((self.key_logits, self.key_profile), key_prior):
                        # floored at 0.1%: a class never seen in training stays reachable
                        log = torch.as_tensor(np.maximum(np.asarray(freq), 1e-3), dtype=torch.float32).log()
                        param.copy_(log - log.mean())
        self.dense = nn.Linear(cfg.latent_dim + N_PITCH_CLASSES * self.key, ch[0] * self.start)
        self.ups = nn.ModuleList(up1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride) for i in range(n))
        # position_noise: one Gaussian value per position after each upsampling layer, scaled per
        # channel (StyleGAN's noise inputs). Scales start at 0: the model starts as without it.
        self.noise_scales = nn.ParameterList(nn.Parameter(torch.zeros(1, ch[i + 1], 1)) for i in range(n)) \
            if cfg.position_noise else None
        sizes = self.encoding.sizes
        self.onehot = [(name, size) for name, size in zip(FEATURES, sizes) if size > 1]
        n_cont = sum(size == 1 for size in sizes)
        self.out = nn.Conv1d(ch[-1], n_cont, cfg.kernel_size, padding="same")
        # head_norm_gain: the one-hot heads read h normalised over positions, per channel, times the
        # gain. Why: at initialisation h barely varies along the window (measured: per-position pitch
        # logits vary by 0.004 nats at step 0, 0.2 after 250 steps, against ~1 nat of window-level
        # key and register biases), so every note takes the same argmax, or an independent draw.
        self.head_norm = None
        if cfg.head_norm_gain > 0:
            self.head_norm = nn.InstanceNorm1d(ch[-1], affine=True)
            nn.init.constant_(self.head_norm.weight, cfg.head_norm_gain)
        # Logits: 1x1, since h already sees ~k·s notes around each position.
        if self.encoding.pitch_one_hot:
            self.pitch = nn.Conv1d(ch[-1], N_PITCHES, 1)
            if cfg.pitch_range_prior and pitch_range is not None:
                apply_pitch_range_prior(self.pitch.bias, pitch_range)
        if self.encoding.time_bins:
            self.time = nn.Conv1d(ch[-1], 2 * self.encoding.time_bins, 1)  # step bins, then duration bins
        n_bias = (N_PITCH_CLASSES if self.encoding.pitch_one_hot else 0) + 2 * self.encoding.time_bins
        self.bias = nn.Linear(cfg.latent_dim, n_bias) if cfg.global_bias and n_bias else None
        if cfg.register_latent and not self.encoding.pitch_one_hot:
            raise ValueError("pianogan.model.register_latent needs pitch_head: categorical")
        self.register = nn.Linear(cfg.latent_dim, 2) if cfg.register_latent else None  # (centre, log width)
        if self.register is not None:
            nn.init.zeros_(self.register.weight)
            nn.init.zeros_(self.register.bias)
        register_values(self, self.onehot, values)

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator, device=device)  # (B, Z)

    def key_one_hot(self, z: torch.Tensor) -> torch.Tensor:
        """(B, 12) the window's key: Gumbel-max over key_logits with noise from z[:, :12].

        Phi(z) is uniform, so -log(-log Phi(z)) is Gumbel noise and the argmax is a draw from
        softmax(key_logits). Straight-through: the one-hot forward, softmax's gradient backward.
        """
        u = torch.special.ndtr(z[:, :N_PITCH_CLASSES].float()).clamp(1e-6, 1 - 1e-6)
        y = self.key_logits.float() + -torch.log(-torch.log(u))  # (B, 12)
        soft = (y / self.tau).softmax(1)
        hard = nn.functional.one_hot(y.argmax(1), N_PITCH_CLASSES).to(soft.dtype)
        return (hard - soft.detach() + soft).to(z.dtype)

    def key_bias(self, key: torch.Tensor) -> torch.Tensor:
        """(B, 12) one-hot keys -> (B, 12) pitch-class logits: the profile rotated to each key."""
        c = torch.arange(N_PITCH_CLASSES, device=key.device)
        table = self.key_profile[(c[None, :] - c[:, None]) % N_PITCH_CLASSES]  # (key, pitch class)
        return key @ table.to(key.dtype)

    def register_bias(self, z: torch.Tensor) -> torch.Tensor:
        """(B, 128) pitch logits of each window's register: a Gaussian bump in standardised pitch."""
        centre, log_width = self.register(z.float()).unbind(1)  # (B,) each; 0, 0 at initialisation
        v = self.pitch_values.float()  # (128,) standardised value of each MIDI pitch
        return -0.5 * ((v[None] - centre[:, None]) / log_width.exp()[:, None]) ** 2

    def _hidden(self, z: torch.Tensor, key: torch.Tensor | None = None,
                noise: torch.Generator | None = None) -> torch.Tensor:
        x = torch.cat([z, key if key is not None else self.key_one_hot(z)], 1) if self.key else z
        h = torch.relu(self.dense(x)).view(z.shape[0], -1, self.start)  # (B, 16d, L/s**n)
        for i, up in enumerate(self.ups):
            h = up(h)  # (B, C/2, L·s)
            if self.noise_scales is not None:
                n = torch.randn(h.shape[0], 1, h.shape[2], generator=noise, device=h.device, dtype=h.dtype)
                h = h + self.noise_scales[i].to(h.dtype) * n
            h = torch.relu(h)
        return h  # (B, d, seq_len)

    def logits(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """{name: (B, classes, L)} for every one-hot feature, key and global biases included."""
        return self._heads(z)[1]

    def _heads(self, z: torch.Tensor, noise: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The last hidden layer (B, d, L) and the one-hot features' logits."""
        key = self.key_one_hot(z) if self.key else None
        h = self._hidden(z, key, noise)
        hh = self.head_norm(h) if self.head_norm is not None else h  # what the one-hot heads read
        out = {}
        if self.encoding.pitch_one_hot:
            out["pitch"] = self.pitch(hh)
            if key is not None:
                out["pitch"] = out["pitch"] + tile_pitch_classes(self.key_bias(key))[..., None]
            if self.register is not None:
                out["pitch"] = out["pitch"] + self.register_bias(z).to(out["pitch"].dtype)[..., None]
        if self.encoding.time_bins:
            out["step"], out["duration"] = self.time(hh).chunk(2, 1)
        if self.bias is not None:
            b = self.bias(z)  # (B, 12? + 2·bins)
            if self.encoding.pitch_one_hot:
                out["pitch"] = out["pitch"] + tile_pitch_classes(b[:, :N_PITCH_CLASSES])[..., None]
                b = b[:, N_PITCH_CLASSES:]
            if self.encoding.time_bins:
                bs, bd = b.chunk(2, 1)
                out["step"], out["duration"] = out["step"] + bs[..., None], out["duration"] + bd[..., None]
        return h, out

    def _assemble(self, h: torch.Tensor, picked: dict[str, torch.Tensor]) -> torch.Tensor:
        """Continuous channels from `out` and the picked one-hot groups (or values), in FEATURES order."""
        dtype = next(iter(picked.values())).dtype  # autocast may leave `out` in bf16, the picks in fp32
        cont = self.out(h).to(dtype)
        parts, c = [], 0
        for name, size in zip(FEATURES, self.encoding.sizes):
            if name in picked:
                parts.append(picked[name])
            else:
                parts.append(cont[:, c:c + 1])
                c += 1
        return torch.cat(parts, 1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """What the critic sees: (B, NoteEncoding.channels, L), e.g. (B, 4, L) or (B, 131, L).

        One-hot groups in training, by `train_notes`: "gumbel" draws a Gumbel-softmax one-hot (a
        sample from softmax(logits), gradient through the tempered soft version); "argmax" takes
        the argmax one-hot, straight-through the tempered softmax; "softmax" shows the critic the
        tempered softmax itself, as the WGAN-GP paper's character-level language model does: the
        critic tells a spread distribution from a real one-hot, so the generator must commit to one
        note per position, and the gradient is exact. Eval mode: the argmax one-hot.
        Why not only gumbel: independent per-note draws from wide softmaxes erase whatever order
        the logits hold (measured: pitch entropy 3.2 nats, order score below shuffled real notes).
        """
        if not self.onehot:
            return self.out(self._hidden(z))  # (B, 4, L)
        h, all_logits = self._heads(z)
        picked = {}
        for name, logits in all_logits.items():
            hard = nn.functional.one_hot(logits.argmax(1), logits.shape[1]).movedim(-1, 1).to(logits.dtype)
            if not self.training:
                picked[name] = hard
            elif self.train_notes == "gumbel":
                picked[name] = nn.functional.gumbel_softmax(logits, tau=self.tau, hard=True, dim=1)
            elif self.train_notes == "softmax":
                picked[name] = (logits / self.tau).softmax(1)
            else:  # straight-through argmax
                soft = (logits / self.tau).softmax(1)
                picked[name] = hard - soft.detach() + soft
        return self._assemble(h, picked)

    def features(self, z: torch.Tensor, sampling: str | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 4, L) standardised (pitch, step, duration, velocity) under any encoding.

        One-hot features are drawn from softmax(logits) (`generator` seeds it; the
        distribution the critic judged in training) or taken as the argmax; `sampling`
        (default: the config's `pitch_sampling`) applies to every one-hot feature.
        """
        if not self.onehot:
            return self.out(self._hidden(z, noise=generator))
        sampling = sampling or self.pitch_sampling
        if sampling not in ("softmax", "argmax"):
            raise ValueError(f"pitch sampling {sampling!r}: use 'softmax' or 'argmax'")
        h, all_logits = self._heads(z, noise=generator)
        picked = {}
        for name, logits in all_logits.items():
            logits = logits.float()  # (B, K, L)
            if sampling == "argmax":
                idx = logits.argmax(1)  # (B, L)
            else:
                probs = logits.softmax(1).transpose(1, 2).reshape(-1, logits.shape[1])  # (B·L, K)
                idx = torch.multinomial(probs, 1, generator=generator).view(logits.shape[0], -1)
            picked[name] = getattr(self, f"{name}_values").float()[idx][:, None]  # (B, 1, L) standardised
        return self._assemble(h, picked)  # (B, 4, L)


def window_summary(x: torch.Tensor, encoding: NoteEncoding) -> torch.Tensor:
    """Per-window statistics of a critic input (B, channels, L) -> (B, summary_size(encoding)).

    One-hot groups give their histogram over the window (pitch folded to 12 pitch classes: the
    key shows there); continuous channels their mean and std. All differentiable in x, as the
    gradient penalty needs (std via sqrt(var + eps), finite at a constant channel).
    """
    parts = []
    for group, size in zip(x.split(list(encoding.sizes), 1), encoding.sizes):
        if size == N_PITCHES:
            parts.append(fold_pitch_classes(group.mean(-1)))  # (B, 12)
        elif size > 1:
            parts.append(group.mean(-1))  # (B, bins)
        else:
            g = group[:, 0].float()
            parts += [g.mean(-1, keepdim=True), (g.var(-1, keepdim=True) + 1e-6).sqrt().to(x.dtype)]
    return torch.cat(parts, 1)


def summary_size(encoding: NoteEncoding) -> int:
    return sum(N_PITCH_CLASSES if s == N_PITCHES else (s if s > 1 else 2) for s in encoding.sizes)


MAX_INTERVAL = 12  # order_summary: intervals of -12..12 semitones get a bin each


def order_summary(x: torch.Tensor, encoding: NoteEncoding) -> torch.Tensor:
    """Order statistics of a critic input with one-hot pitch (B, channels, L) -> (B, ORDER_SIZE).

    The pitch-class transition matrix of consecutive notes (12 x 12) and the histogram of their
    intervals (-12..12 semitones): what a shuffle changes and a histogram cannot see. Products of
    consecutive one-hots, so differentiable in x (soft inputs give expected counts).
    """
    pitch = x[:, :N_PITCHES].float()  # (B, 128, L)
    pc = fold_pitch_classes(pitch)  # (B, 12, L)
    trans = torch.einsum("bil,bjl->bij", pc[..., :-1], pc[..., 1:]).flatten(1) / (x.shape[-1] - 1)  # (B, 144)
    a, b = pitch[..., :-1], pitch[..., 1:]
    hist = [(a[:, :N_PITCHES - k] * b[:, k:]).sum((1, 2)) if k >= 0 else (a[:, -k:] * b[:, :N_PITCHES + k]).sum((1, 2))
            for k in range(-MAX_INTERVAL, MAX_INTERVAL + 1)]
    return torch.cat([trans, torch.stack(hist, 1) / (x.shape[-1] - 1)], 1).to(x.dtype)  # (B, 144 + 25)


ORDER_SIZE = N_PITCH_CLASSES ** 2 + 2 * MAX_INTERVAL + 1


class PianoCritic(nn.Module):
    """Mirror of the generator: a stride-1 conv, then strided convs down to (16d, start), then a scalar."""

    def __init__(self, cfg: PianoGANModelConfig, spectral_norm: bool = False):
        super().__init__()
        n, start = plan(cfg.seq_len, cfg.stride)
        ch = widths(cfg.d, n)[::-1]  # 2d, 4d, …, 16d
        self.encoding = NoteEncoding.of(cfg)
        c_in = self.encoding.channels
        # One-hot input: a linear 1x1 embedding first, so the k-tap conv reads 16 channels per
        # one-hot group (e.g. 16, not 131), not the one-hot itself.
        n_groups = sum(self.encoding.categorical)
        width = EMBED_PER_GROUP * n_groups
        self.embed = sn(nn.Conv1d(c_in, width, 1), spectral_norm) if n_groups else None
        self.inp = sn(nn.Conv1d(width if self.embed else c_in, ch[0], cfg.kernel_size, padding="same"),
                      spectral_norm)
        self.downs = nn.ModuleList(down1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride, spectral_norm)
                                   for i in range(n))
        self.mbstd = cfg.minibatch_std
        self.order = cfg.critic_order
        if self.order and not self.encoding.pitch_one_hot:
            raise ValueError("pianogan.model.critic_order needs pitch_head: categorical")
        n_order = 4 * cfg.d if self.order else 0
        self.order_mlp = nn.Sequential(
            sn(nn.Linear(ORDER_SIZE, n_order), spectral_norm), nn.LeakyReLU(LEAK),
            sn(nn.Linear(n_order, n_order), spectral_norm), nn.LeakyReLU(LEAK),
        ) if self.order else None
        n_summary = 4 * cfg.d if cfg.critic_summary else 0
        self.summary = nn.Sequential(
            sn(nn.Linear(summary_size(self.encoding), n_summary), spectral_norm), nn.LeakyReLU(LEAK),
            sn(nn.Linear(n_summary, n_summary), spectral_norm), nn.LeakyReLU(LEAK),
        ) if cfg.critic_summary else None
        self.head = sn(nn.Linear((ch[-1] + int(self.mbstd)) * start + n_summary + n_order, 1), spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        feats = [self.summary(window_summary(x, self.encoding))] if self.summary is not None else []
        if self.order_mlp is not None:
            feats.append(self.order_mlp(order_summary(x, self.encoding)))
        if self.embed is not None:
            x = self.embed(x)  # (B, 16·groups, L)
        h = nn.functional.leaky_relu(self.inp(x), LEAK)  # (B, 2d, L)
        for down in self.downs:
            h = nn.functional.leaky_relu(down(h), LEAK)  # (B, 2C, L/s)
        if self.mbstd:
            h = torch.cat([h, minibatch_std(h)], 1)  # (B, 16d + 1, start)
        return self.head(torch.cat([h.flatten(1)] + feats, 1)).squeeze(1)  # (B,)
