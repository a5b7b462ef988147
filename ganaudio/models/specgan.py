"""SpecGAN (Donahue et al. 2019): a DCGAN on normalised log-spectrograms in [-1, 1].

The number of 5×5 stride-2 layers follows from the data: 64×64 needs four upsamplings from
4×4, 128×128 (the paper) five. The generator has no batch norm, as in the paper. With
`conditional`, the generator sees a label embedding beside z and the critic is a projection
discriminator (Miyato & Koyama 2018): score = w·φ(x) + <embed(y), φ(x)>.

`upsample: nearest` replaces each transposed convolution by a 2x nearest-neighbour upsampling
and a same-size convolution (Odena et al. 2016): a stride-2 transposed 5x5 kernel covers
output pixels unevenly, which paints a checkerboard over the spectrogram that Griffin-Lim then
renders as a buzz. `minibatch_std` gives the critic ProGAN's batch-spread channel, a cheap
signal against mode collapse.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganaudio.config import SpectoGANModelConfig
from ganaudio.models.layers import (LEAK, down2d, generator_input_dim, label_embedding, minibatch_std,
                                    projected_score, projection, up2d, with_labels)

START = 4  # the smaller side after the dense layer


def plan(data_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(number of stride-2 layers, start height, start width) for data of shape (1, H, W)."""
    if len(data_shape) != 3 or data_shape[0] != 1:
        raise ValueError(f"spectogan data shape is {tuple(data_shape)}; expected (1, n_mels, n_frames)")
    _, h, w = data_shape
    n = int(round(math.log2(min(h, w) / START))) if min(h, w) >= 2 * START else 0
    if n < 1 or min(h, w) != START * 2 ** n or h % 2 ** n or w % 2 ** n:
        raise ValueError(f"spectogan data shape {h}x{w} does not halve down to {START} on its short side; "
                         "set mels.n_mels and mels.n_frames to 64 or 128 (powers of two)")
    return n, h // 2 ** n, w // 2 ** n


def widths(d: int, n: int) -> list[int]:
    return [max(16 * d // 2 ** i, 1) for i in range(n)]  # 16d, 8d, … (n of them)


def upsampler(c_in: int, c_out: int, k: int, how: str) -> nn.Module:
    """(B, c_in, H, W) -> (B, c_out, 2H, 2W): a transposed conv or nearest upsampling + conv."""
    if how == "transposed":
        return up2d(c_in, c_out, k)
    if how == "nearest":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, k, padding=k // 2))
    raise ValueError(f"spectogan.model.upsample is {how!r}; choose 'transposed' or 'nearest'")


class SpecGANGenerator(nn.Module):
    def __init__(self, cfg: SpectoGANModelConfig, data_shape: tuple[int, int, int]):
        super().__init__()
        n, self.h0, self.w0 = plan(data_shape)
        ch = widths(cfg.d, n) + [1]
        self.latent_dim = cfg.latent_dim
        self.conditional = cfg.conditional
        self.embed = label_embedding(cfg.conditional, cfg.n_classes)
        self.dense = nn.Linear(generator_input_dim(cfg.latent_dim, cfg.conditional), ch[0] * self.h0 * self.w0)
        self.ups = nn.ModuleList(upsampler(ch[i], ch[i + 1], cfg.kernel_size, cfg.upsample) for i in range(n))

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator, device=device)  # (B, Z)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_labels(z, self.embed, labels, "SpectoGAN")  # (B, Z [+ LABEL_DIM])
        h = torch.relu(self.dense(z)).view(z.shape[0], -1, self.h0, self.w0)  # (B, 16d, 4, 4)
        for i, up in enumerate(self.ups):
            h = up(h)  # (B, C/2, 2H, 2W)
            h = torch.relu(h) if i < len(self.ups) - 1 else torch.tanh(h)
        return h  # (B, 1, H, W) in [-1, 1]


class SpecGANCritic(nn.Module):
    def __init__(self, cfg: SpectoGANModelConfig, data_shape: tuple[int, int, int], spectral_norm: bool = False):
        super().__init__()
        n, h0, w0 = plan(data_shape)
        ch = [1] + widths(cfg.d, n)[::-1]  # 1, 2d, …, 16d
        self.downs = nn.ModuleList(down2d(ch[i], ch[i + 1], cfg.kernel_size, spectral_norm) for i in range(n))
        self.mbstd = cfg.minibatch_std
        feat = (ch[-1] + int(self.mbstd)) * h0 * w0
        self.conditional = cfg.conditional
        self.head, self.project = projection(feat, cfg.conditional, cfg.n_classes, spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = x  # (B, 1, H, W)
        for down in self.downs:
            h = nn.functional.leaky_relu(down(h), LEAK)  # (B, 2C, H/2, W/2)
        if self.mbstd:
            h = torch.cat([h, minibatch_std(h)], 1)  # (B, 16d + 1, 4, 4)
        return projected_score(h.flatten(1), self.head, self.project, labels, "SpectoGAN")  # φ: (B, (16d [+1])·4·4)
