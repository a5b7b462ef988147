"""Small building blocks shared by the GANs."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

LEAK = 0.2  # LeakyReLU slope of the DCGAN/WaveGAN/SpecGAN critics
LABEL_DIM = 32  # size of a conditional generator's label embedding (SpecGAN, WaveGAN)


def sn(module: nn.Module, on: bool) -> nn.Module:
    """Spectral norm (Miyato et al. 2018) when `on`: the Lipschitz control of the hinge recipe."""
    return _spectral_norm(module) if on else module


def up_padding(kernel_size: int, stride: int) -> tuple[int, int]:
    """(padding, output_padding) making a transposed conv upsample by exactly `stride`.

    L_out = (L_in - 1)·s - 2p + k + op, and we want s·L_in, so 2p - op = k - s.
    The matching strided conv with the same padding then maps s·L back to L exactly.
    """
    if kernel_size < stride:
        raise ValueError(f"kernel_size {kernel_size} < stride {stride}: use a kernel at least as wide as the stride")
    pad = (kernel_size - stride + 1) // 2
    return pad, 2 * pad - (kernel_size - stride)


def up1d(c_in: int, c_out: int, k: int, s: int) -> nn.ConvTranspose1d:
    p, op = up_padding(k, s)
    return nn.ConvTranspose1d(c_in, c_out, k, stride=s, padding=p, output_padding=op)


def down1d(c_in: int, c_out: int, k: int, s: int, spectral: bool) -> nn.Module:
    return sn(nn.Conv1d(c_in, c_out, k, stride=s, padding=up_padding(k, s)[0]), spectral)


def up2d(c_in: int, c_out: int, k: int, s: int = 2) -> nn.ConvTranspose2d:
    p, op = up_padding(k, s)
    return nn.ConvTranspose2d(c_in, c_out, k, stride=s, padding=p, output_padding=op)


def down2d(c_in: int, c_out: int, k: int, spectral: bool, s: int = 2) -> nn.Module:
    return sn(nn.Conv2d(c_in, c_out, k, stride=s, padding=up_padding(k, s)[0]), spectral)


def minibatch_std(h: torch.Tensor, group: int = 4) -> torch.Tensor:
    """ProGAN's minibatch std (Karras et al. 2018): (B, C, *S) -> (B, 1, *S) constant per group.

    The std across a group of samples, per channel and position, averaged to one number and
    appended as a channel: a collapsed generator's batch has visibly low spread. Groups of
    `group` consecutive samples (the largest divisor of B up to it), not the whole batch: the
    loss scores cat([real, fake]) in one forward, and with B % group == 0 per half no group
    mixes the two, so real and fake each show their own spread.
    """
    b, spatial = h.shape[0], h.shape[2:]
    g = max(k for k in range(1, min(group, b) + 1) if b % k == 0)
    y = h.float().reshape(b // g, g, -1)  # (B/G groups, G members, C·S)
    s = (y.var(1, unbiased=False) + 1e-8).sqrt().mean(1)  # (B/G,)
    return s.repeat_interleave(g).view(b, 1, *[1] * len(spatial)).expand(b, 1, *spatial).to(h.dtype)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module under DistributedDataParallel (`.module`) and torch.compile (`._orig_mod`)."""
    while True:
        if hasattr(module, "_orig_mod"):
            module = module._orig_mod
        elif isinstance(module, nn.parallel.DistributedDataParallel):
            module = module.module
        else:
            return module


def sample_normal(n: int, dim: int, generator: torch.Generator | None, device) -> torch.Tensor:
    return torch.randn(n, dim, generator=generator, device=device)


# ---------------------------------------------------------------- digit conditioning
# One mechanism for SpecGAN and WaveGAN: the generator sees a label embedding beside z, the
# critic is a projection discriminator (Miyato & Koyama 2018): score = w·φ(x) + <embed(y), φ(x)>.
# Plain functions, not modules, so each model keeps its own attribute names (and checkpoints).

def label_embedding(conditional: bool, n_classes: int) -> nn.Embedding | None:
    """The generator's label embedding (n_classes -> LABEL_DIM), or None for an unconditional model."""
    return nn.Embedding(n_classes, LABEL_DIM) if conditional else None


def generator_input_dim(latent_dim: int, conditional: bool) -> int:
    return latent_dim + (LABEL_DIM if conditional else 0)


def with_labels(z: torch.Tensor, embed: nn.Embedding | None, labels: torch.Tensor | None,
                who: str) -> torch.Tensor:
    """(B, Z) -> (B, Z + LABEL_DIM) for a conditional generator; z unchanged otherwise."""
    if embed is None:
        return z
    if labels is None:
        raise ValueError(f"this {who} generator is conditional: pass labels (digits 0-9)")
    return torch.cat([z, embed(labels)], dim=1)


def projection(feat: int, conditional: bool, n_classes: int, spectral: bool) -> tuple[nn.Module, nn.Module | None]:
    """(head: feat -> 1, class projection: n_classes -> feat or None) of a critic."""
    head = sn(nn.Linear(feat, 1), spectral)
    return head, (sn(nn.Embedding(n_classes, feat), spectral) if conditional else None)


def projected_score(phi: torch.Tensor, head: nn.Module, project: nn.Module | None,
                    labels: torch.Tensor | None, who: str) -> torch.Tensor:
    """Critic features (B, F) -> scores (B,): w·φ, plus <embed(y), φ> when conditional."""
    score = head(phi).squeeze(1)  # (B,)
    if project is None:
        return score
    if labels is None:
        raise ValueError(f"this {who} critic is conditional: pass labels (digits 0-9)")
    return score + (project(labels) * phi).sum(1)
