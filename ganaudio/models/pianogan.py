"""PianoGAN: a WaveGAN-style 1D convolutional GAN over windows of notes.

A window is (4, seq_len): channels (pitch, step, duration, velocity), each standardised by the
`notes` stage. The generator ends in a plain linear conv, not tanh: standardised step and
duration are heavy-tailed (long rests, held chords), and tanh would squash exactly the values
that make a phrase breathe. The generator has no batch norm, following WaveGAN (it found BN
did not help) and keeping a sample independent of the rest of its batch.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaudio.config import PianoGANModelConfig
from ganaudio.models.layers import LEAK, down1d, sn, up1d

N_FEATURES = 4  # pitch, step, duration, velocity
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


class PianoGenerator(nn.Module):
    def __init__(self, cfg: PianoGANModelConfig):
        super().__init__()
        if cfg.pitch_head != "continuous":
            raise NotImplementedError("pianogan.model.pitch_head 'categorical' is not implemented; use 'continuous'")
        self.latent_dim = cfg.latent_dim
        n, self.start = plan(cfg.seq_len, cfg.stride)
        ch = widths(cfg.d, n)
        self.dense = nn.Linear(cfg.latent_dim, ch[0] * self.start)
        self.ups = nn.ModuleList(up1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride) for i in range(n))
        self.out = nn.Conv1d(ch[-1], N_FEATURES, cfg.kernel_size, padding="same")

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator, device=device)  # (B, Z)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = torch.relu(self.dense(z)).view(z.shape[0], -1, self.start)  # (B, 16d, L/s**n)
        for up in self.ups:
            h = torch.relu(up(h))  # (B, C/2, L·s)
        return self.out(h)  # (B, 4, seq_len), standardised features


class PianoCritic(nn.Module):
    """Mirror of the generator: a stride-1 conv, then strided convs down to (16d, start), then a scalar."""

    def __init__(self, cfg: PianoGANModelConfig, spectral_norm: bool = False):
        super().__init__()
        n, start = plan(cfg.seq_len, cfg.stride)
        ch = widths(cfg.d, n)[::-1]  # 2d, 4d, …, 16d
        self.inp = sn(nn.Conv1d(N_FEATURES, ch[0], cfg.kernel_size, padding="same"), spectral_norm)
        self.downs = nn.ModuleList(down1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride, spectral_norm)
                                   for i in range(n))
        self.head = sn(nn.Linear(ch[-1] * start, 1), spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = nn.functional.leaky_relu(self.inp(x), LEAK)  # (B, 2d, L)
        for down in self.downs:
            h = nn.functional.leaky_relu(down(h), LEAK)  # (B, 2C, L/s)
        return self.head(h.flatten(1)).squeeze(1)  # (B,)
