"""WaveGAN (Donahue et al. 2019): a DCGAN flattened to 1D, on raw 16 kHz waveforms.

Generator: z (100) -> dense -> (16d, 16) -> five transposed convolutions, kernel 25, stride 4
-> (1, 16384) through tanh; ReLU between layers, no batch norm. Critic: the mirror image, strided
convolutions with LeakyReLU 0.2, then a linear score. Between the critic's layers, phase shuffle
shifts each example's activations by a random -n..n samples (reflection-padded), so the critic
cannot tell real from fake by the phase of the periodic artefacts transposed convolutions leave.

With `conditional`, both networks take digit labels through SpecGAN's mechanism
(`models.layers`: a label embedding beside z, a projection critic).
"""

from __future__ import annotations

import torch
from torch import nn

from ganaudio.config import WaveGANModelConfig
from ganaudio.models.layers import (LEAK, down1d, generator_input_dim, label_embedding, projected_score, projection,
                                    up1d, with_labels)

START = 16  # samples after the dense layer
LAYERS = 5  # 16 · 4^5 = 16,384 samples (stride 4)


def n_samples(cfg: WaveGANModelConfig) -> int:
    return START * cfg.stride ** LAYERS


def check_shape(cfg: WaveGANModelConfig, data_shape: tuple[int, ...]) -> None:
    want = (1, n_samples(cfg))
    if tuple(data_shape) != want:
        raise ValueError(f"wavegan data shape {tuple(data_shape)} != {want}: the generator writes "
                         f"{START}·{cfg.stride}^{LAYERS} samples; rebuild data/processed/waves (`dvc repro waves`)")


def widths(d: int) -> list[int]:
    return [16 * d, 8 * d, 4 * d, 2 * d, d]


def phase_shuffle(x: torch.Tensor, shifts: torch.Tensor, n: int) -> torch.Tensor:
    """Shift example b of (B, C, T) by shifts[b] in [-n, n] samples: y[b, :, t] = x[b, :, t - shifts[b]],
    where indices outside 0..T-1 reflect back inside (reflection padding, edge sample not repeated)."""
    if n == 0:
        return x
    length = x.shape[-1]
    # CPU autocast runs reflection padding in fp32: back to x's dtype (bf16) before the copies.
    padded = nn.functional.pad(x, (n, n), mode="reflect").to(x.dtype)  # (B, C, T + 2n)
    out = torch.empty_like(x)
    for s in range(-n, n + 1):  # 2n + 1 slices beat a gather over B·C·T indices
        rows = shifts == s
        out[rows] = padded[rows, :, n - s: n - s + length]
    return out


class PhaseShuffle(nn.Module):
    """Phase shuffle (WaveGAN §3.3) with a fresh shift per example; the identity in eval mode."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.n == 0:
            return x
        shifts = torch.randint(-self.n, self.n + 1, (x.shape[0],), device=x.device)  # (B,)
        return phase_shuffle(x, shifts, self.n)


class WaveGANGenerator(nn.Module):
    def __init__(self, cfg: WaveGANModelConfig, data_shape: tuple[int, int] | None = None):
        super().__init__()
        if data_shape is not None:
            check_shape(cfg, data_shape)
        ch = widths(cfg.d) + [1]
        self.latent_dim = cfg.latent_dim
        self.conditional = cfg.conditional
        self.embed = label_embedding(cfg.conditional, cfg.n_classes)
        self.dense = nn.Linear(generator_input_dim(cfg.latent_dim, cfg.conditional), ch[0] * START)
        self.ups = nn.ModuleList(up1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride) for i in range(LAYERS))

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.rand(n, self.latent_dim, generator=generator, device=device) * 2 - 1  # (B, Z) ~ U(-1, 1), as WaveGAN

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_labels(z, self.embed, labels, "WaveGAN")  # (B, Z [+ LABEL_DIM])
        h = torch.relu(self.dense(z)).view(z.shape[0], -1, START)  # (B, 16d, 16)
        for i, up in enumerate(self.ups):
            h = up(h)  # (B, C/2, 4T)
            h = torch.relu(h) if i < LAYERS - 1 else torch.tanh(h)
        return h  # (B, 1, 16384) in [-1, 1]


class WaveGANCritic(nn.Module):
    def __init__(self, cfg: WaveGANModelConfig, data_shape: tuple[int, int] | None = None,
                 spectral_norm: bool = False):
        super().__init__()
        if data_shape is not None:
            check_shape(cfg, data_shape)
        ch = [1] + widths(cfg.d)[::-1]  # 1, d, 2d, …, 16d
        self.downs = nn.ModuleList(down1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride, spectral_norm)
                                   for i in range(LAYERS))
        self.shuffle = PhaseShuffle(cfg.phase_shuffle)
        self.conditional = cfg.conditional
        self.head, self.project = projection(ch[-1] * START, cfg.conditional, cfg.n_classes, spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = x  # (B, 1, 16384)
        for i, down in enumerate(self.downs):
            h = nn.functional.leaky_relu(down(h), LEAK)  # (B, 2C, T/4)
            if i < LAYERS - 1:  # not after the last layer, as in the paper
                h = self.shuffle(h)
        return projected_score(h.flatten(1), self.head, self.project, labels, "WaveGAN")  # φ: (B, 16d·16)
