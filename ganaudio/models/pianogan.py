"""PianoGAN: a WaveGAN-style 1D convolutional GAN over windows of notes.

A window is (4, seq_len): channels (pitch, step, duration, velocity), each standardised by the
`notes` stage. The generator ends in a plain linear conv, not tanh: standardised step and
duration are heavy-tailed (long rests, held chords), and tanh would squash exactly the values
that make a phrase breathe. The generator has no batch norm, following WaveGAN (it found BN
did not help) and keeping a sample independent of the rest of its batch.

Two pitch heads (`pitch_head`):
- "continuous": pitch is one more standardised channel, rounded to a semitone when rendered.
  A rounded continuous value cannot hold a scale: neighbouring semitones are equally cheap.
- "categorical": 128 pitch logits per note. While training, a straight-through Gumbel-softmax
  turns them into a one-hot (hard forward, soft gradient backward), so the critic sees
  (B, 128 + 3, L) for fakes and real windows are given to it the same way (`one_hot_window`).
Either generator's `features(z)` gives the (B, 4, L) standardised features that rendering and
evaluation denormalise.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaudio.config import PianoGANModelConfig
from ganaudio.models.layers import LEAK, down1d, sn, up1d

N_FEATURES = 4  # pitch, step, duration, velocity
N_PITCHES = 128  # MIDI pitches, the categorical head's classes
N_CONTINUOUS = 3  # step, duration, velocity: continuous under either head
PITCH_EMBED = 16  # the categorical critic's 1x1 embedding of the one-hot: keeps the wide k-tap conv cheap
MIN_START = 4  # the dense layer's output length: upsample from here by `stride` per layer


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
    """Channels of what the critic sees: (pitch, step, duration, velocity) or (128 one-hot + 3)."""
    return N_PITCHES + N_CONTINUOUS if cfg.pitch_head == "categorical" else N_FEATURES


def one_hot_window(pitch: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """MIDI pitches (..., L) int + standardised (step, duration, velocity) (..., 3, L) -> (..., 131, L)."""
    hot = nn.functional.one_hot(pitch.long(), N_PITCHES).movedim(-1, -2).to(rest.dtype)  # (..., 128, L)
    return torch.cat([hot, rest], -2)


class PianoGenerator(nn.Module):
    def __init__(self, cfg: PianoGANModelConfig, pitch_values: torch.Tensor | None = None):
        """`pitch_values` (128,): the standardised value of each MIDI pitch (categorical head only).

        It is a buffer, so checkpoints carry it; `load_generator` builds with the zeros
        placeholder and the state dict fills it in.
        """
        super().__init__()
        self.latent_dim = cfg.latent_dim
        self.categorical = cfg.pitch_head == "categorical"
        self.tau, self.pitch_sampling = cfg.gumbel_tau, cfg.pitch_sampling
        n, self.start = plan(cfg.seq_len, cfg.stride)
        ch = widths(cfg.d, n)
        self.dense = nn.Linear(cfg.latent_dim, ch[0] * self.start)
        self.ups = nn.ModuleList(up1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride) for i in range(n))
        if self.categorical:
            self.out = nn.Conv1d(ch[-1], N_CONTINUOUS, cfg.kernel_size, padding="same")
            self.pitch = nn.Conv1d(ch[-1], N_PITCHES, 1)  # logits; h already sees ~k·s notes around
            values = torch.zeros(N_PITCHES) if pitch_values is None else torch.as_tensor(pitch_values).float()
            if values.shape != (N_PITCHES,):
                raise ValueError(f"pitch_values must be ({N_PITCHES},), got {tuple(values.shape)}")
            self.register_buffer("pitch_values", values.clone())
        else:
            self.out = nn.Conv1d(ch[-1], N_FEATURES, cfg.kernel_size, padding="same")

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator, device=device)  # (B, Z)

    def _hidden(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.dense(z)).view(z.shape[0], -1, self.start)  # (B, 16d, L/s**n)
        for up in self.ups:
            h = torch.relu(up(h))  # (B, C/2, L·s)
        return h  # (B, d, seq_len)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """What the critic sees: (B, 4, L) standardised, or (B, 131, L) one-hot pitch + 3 features.

        Categorical: a Gumbel-softmax one-hot while training (a sample from softmax(logits),
        gradient through the tempered soft version), the argmax one-hot in eval mode.
        """
        h = self._hidden(z)
        if not self.categorical:
            return self.out(h)  # (B, 4, L)
        logits = self.pitch(h)  # (B, 128, L)
        if self.training:
            hot = nn.functional.gumbel_softmax(logits, tau=self.tau, hard=True, dim=1)  # (B, 128, L)
        else:
            hot = nn.functional.one_hot(logits.argmax(1), N_PITCHES).movedim(-1, 1).to(logits.dtype)
        return torch.cat([hot, self.out(h)], 1)  # (B, 131, L)

    def features(self, z: torch.Tensor, sampling: str | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 4, L) standardised (pitch, step, duration, velocity) under either head.

        Categorical: the pitch is drawn from softmax(logits) (`generator` seeds it; the
        distribution the critic judged in training) or taken as the argmax; `sampling`
        overrides the config's `pitch_sampling`.
        """
        h = self._hidden(z)
        if not self.categorical:
            return self.out(h)
        logits = self.pitch(h).float()  # (B, 128, L)
        sampling = sampling or self.pitch_sampling
        if sampling == "argmax":
            idx = logits.argmax(1)  # (B, L)
        elif sampling == "softmax":
            probs = logits.softmax(1).transpose(1, 2).reshape(-1, N_PITCHES)  # (B·L, 128)
            idx = torch.multinomial(probs, 1, generator=generator).view(logits.shape[0], -1)  # (B, L)
        else:
            raise ValueError(f"pitch sampling {sampling!r}: use 'softmax' or 'argmax'")
        pitch = self.pitch_values.to(logits.dtype)[idx]  # (B, L) standardised
        return torch.cat([pitch[:, None], self.out(h).to(logits.dtype)], 1)  # (B, 4, L)


def minibatch_std(h: torch.Tensor, group: int = 4) -> torch.Tensor:
    """ProGAN's minibatch std (Karras et al. 2018): (B, C, L) -> (B, 1, L) constant per group.

    The std across a group of samples, per channel and position, averaged to one number and
    appended as a channel: a collapsed generator's batch has visibly low spread. Groups of
    `group` consecutive samples (the largest divisor of B up to it), not the whole batch: the
    loss scores cat([real, fake]) in one forward, and with B % group == 0 per half no group
    mixes the two, so real and fake each show their own spread.
    """
    b, _, length = h.shape
    g = max(k for k in range(1, min(group, b) + 1) if b % k == 0)
    y = h.float().reshape(b // g, g, -1)  # (B/G groups, G members, C·L)
    s = (y.var(1, unbiased=False) + 1e-8).sqrt().mean(1)  # (B/G,)
    return s.repeat_interleave(g).view(b, 1, 1).expand(b, 1, length).to(h.dtype)


class PianoCritic(nn.Module):
    """Mirror of the generator: a stride-1 conv, then strided convs down to (16d, start), then a scalar."""

    def __init__(self, cfg: PianoGANModelConfig, spectral_norm: bool = False):
        super().__init__()
        n, start = plan(cfg.seq_len, cfg.stride)
        ch = widths(cfg.d, n)[::-1]  # 2d, 4d, …, 16d
        c_in = in_channels(cfg)
        # One-hot input: a linear 1x1 embedding first, so the k-tap conv reads 16 channels, not 131.
        self.embed = sn(nn.Conv1d(c_in, PITCH_EMBED, 1), spectral_norm) if c_in != N_FEATURES else None
        self.inp = sn(nn.Conv1d(PITCH_EMBED if self.embed else c_in, ch[0], cfg.kernel_size, padding="same"),
                      spectral_norm)
        self.downs = nn.ModuleList(down1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride, spectral_norm)
                                   for i in range(n))
        self.mbstd = cfg.minibatch_std
        self.head = sn(nn.Linear((ch[-1] + int(self.mbstd)) * start, 1), spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            x = self.embed(x)  # (B, 16, L)
        h = nn.functional.leaky_relu(self.inp(x), LEAK)  # (B, 2d, L)
        for down in self.downs:
            h = nn.functional.leaky_relu(down(h), LEAK)  # (B, 2C, L/s)
        if self.mbstd:
            h = torch.cat([h, minibatch_std(h)], 1)  # (B, 16d + 1, start)
        return self.head(h.flatten(1)).squeeze(1)  # (B,)
