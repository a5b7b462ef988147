"""WaveGAN (Donahue et al. 2019): a DCGAN flattened to 1D, on raw 16 kHz waveforms.

Generator: z (100) -> dense -> (16d, 16) -> five transposed convolutions, kernel 25, stride 4
-> (1, 16384) through tanh; ReLU between layers, no batch norm. Critic: the mirror image, strided
convolutions with LeakyReLU 0.2, then a linear score. Between the critic's layers, phase shuffle
shifts each example's activations by a random -n..n samples (reflection-padded), so the critic
cannot tell real from fake by the phase of the periodic artefacts transposed convolutions leave.

With `output: istft` the generator stops upsampling at the STFT frame rate (hop `istft_hop`) and
a 1D convolution writes each frame's log-magnitude and phase; a fixed inverse STFT makes the
waveform (Vocos, Siuzdak 2023; iSTFTNet, Kaneko et al. 2022). The critic still judges samples,
and the generator learns its own phase, where SpectoGAN's Griffin-Lim recovers one; the costly
layers at 4,096 and 16,384 samples go.

With `conditional`, both networks take digit labels through SpecGAN's mechanism
(`models.layers`: a label embedding beside z, a projection critic). `minibatch_std` appends
ProGAN's batch-spread channel before the critic's head, as in SpectoGAN.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaudio.config import WaveGANModelConfig
from ganaudio.models.layers import (LEAK, down1d, generator_input_dim, label_embedding, minibatch_std,
                                    projected_score, projection, up1d, with_labels)

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


def upsampler(c_in: int, c_out: int, k: int, s: int, how: str) -> nn.Module:
    """(B, c_in, T) -> (B, c_out, s·T): a transposed conv (the paper's), or nearest-neighbour
    upsampling and a convolution (no uneven overlap, so no tonal checkerboard; costs s× the
    transposed conv's FLOPs at the same kernel, so pair it with a shorter one)."""
    if how == "transposed":
        return up1d(c_in, c_out, k, s)
    if how == "nearest":
        return nn.Sequential(nn.Upsample(scale_factor=s, mode="nearest"), nn.Conv1d(c_in, c_out, k, padding="same"))
    raise ValueError(f"wavegan.model.upsample is {how!r}; choose 'transposed' or 'nearest'")


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


def istft_layers(cfg: WaveGANModelConfig) -> int:
    """Upsamplings from START to the STFT frame count n_samples / istft_hop (a power of the stride)."""
    frames, layers = n_samples(cfg) // cfg.istft_hop, 0
    while START * cfg.stride ** layers < frames:
        layers += 1
    if n_samples(cfg) % cfg.istft_hop or START * cfg.stride ** layers != frames:
        raise ValueError(f"wavegan.model.istft_hop {cfg.istft_hop}: {n_samples(cfg)} samples / hop must be "
                         f"{START}·{cfg.stride}^k frames; use a hop of {n_samples(cfg) // START}/{cfg.stride}^k (e.g. 64)")
    return layers


INIT_LOG_MAG, MAX_LOG_MAG = 3.0, 6.0  # a full-scale sine peaks near log 3.5 at n_fft 256


class ISTFTHead(nn.Module):
    """(B, C, T frames) -> (B, 1, T·hop) samples: a convolution writes log-magnitude and phase per
    frequency bin, and an inverse STFT (fp32, Hann window, n_fft = 4 hops) makes the waveform."""

    def __init__(self, c_in: int, hop: int, n_samples: int):
        super().__init__()
        self.hop, self.n_fft, self.n_samples = hop, 4 * hop, n_samples
        self.bins = self.n_fft // 2 + 1
        self.conv = nn.Conv1d(c_in, 2 * self.bins, 1)  # per frame, as Vocos's linear head
        # Start at about the data's loudness (RMS ~0.09 against its 0.06): from a near-silent start the
        # spectral-norm critic's scores stayed flat for hundreds of steps.
        with torch.no_grad():
            self.conv.bias[:self.bins].fill_(INIT_LOG_MAG)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        log_mag, phase = self.conv(h).float().chunk(2, dim=1)  # (B, F, T) each; the inverse STFT in fp32
        return self.synthesize(log_mag, phase)

    def synthesize(self, log_mag: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """(B, F, T) log-magnitudes and phases -> (B, 1, S) samples."""
        # T + 1 frames: a centred STFT of n samples has n/hop + 1; the last written frame is repeated
        log_mag, phase = (nn.functional.pad(t, (0, 1), mode="replicate") for t in (log_mag, phase))
        spec = torch.polar(log_mag.clamp(max=MAX_LOG_MAG).exp(), phase)  # clipped as Vocos: bounded early outputs
        audio = torch.istft(spec, self.n_fft, self.hop, window=self.window, center=True, length=self.n_samples)
        return torch.tanh(audio)[:, None]  # (B, 1, S) in [-1, 1]


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
        layers = istft_layers(cfg) if cfg.output == "istft" else LAYERS
        self.ups = nn.ModuleList(upsampler(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride, cfg.upsample)
                                 for i in range(layers))
        self.head = ISTFTHead(ch[layers], cfg.istft_hop, n_samples(cfg)) if cfg.output == "istft" else None

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.rand(n, self.latent_dim, generator=generator, device=device) * 2 - 1  # (B, Z) ~ U(-1, 1), as WaveGAN

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_labels(z, self.embed, labels, "WaveGAN")  # (B, Z [+ LABEL_DIM])
        h = torch.relu(self.dense(z)).view(z.shape[0], -1, START)  # (B, 16d, 16)
        for i, up in enumerate(self.ups):
            h = up(h)  # (B, C/2, 4T)
            h = torch.relu(h) if i < len(self.ups) - 1 or self.head is not None else torch.tanh(h)
        return h if self.head is None else self.head(h)  # (B, 1, 16384) in [-1, 1]


class WaveGANCritic(nn.Module):
    def __init__(self, cfg: WaveGANModelConfig, data_shape: tuple[int, int] | None = None,
                 spectral_norm: bool = False):
        super().__init__()
        if data_shape is not None:
            check_shape(cfg, data_shape)
        ch = [1] + widths(cfg.critic_d or cfg.d)[::-1]  # 1, d, 2d, …, 16d
        self.downs = nn.ModuleList(down1d(ch[i], ch[i + 1], cfg.kernel_size, cfg.stride, spectral_norm)
                                   for i in range(LAYERS))
        self.shuffle = PhaseShuffle(cfg.phase_shuffle)
        self.conditional = cfg.conditional
        self.mbstd = cfg.minibatch_std
        feat = (ch[-1] + self.mbstd) * START
        self.head, self.project = projection(feat, cfg.conditional, cfg.n_classes, spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = x  # (B, 1, 16384)
        for i, down in enumerate(self.downs):
            h = nn.functional.leaky_relu(down(h), LEAK)  # (B, 2C, T/4)
            if i < LAYERS - 1:  # not after the last layer, as in the paper
                h = self.shuffle(h)
        if self.mbstd:
            h = torch.cat([h, minibatch_std(h)], 1)  # (B, 16d + 1, 16)
        return projected_score(h.flatten(1), self.head, self.project, labels, "WaveGAN")  # φ: (B, (16d [+1])·16)
