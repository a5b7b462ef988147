"""Adversarial losses as objects with separate critic and generator methods.

Detaching happens here, not in the loop: `critic_loss` never sends gradient into the
generator, `generator_loss` does. Both return (loss, metrics) where metrics are detached
scalars under `adv/`; every loss logs the same keys (a term it lacks is logged as 0) so runs
with different losses share one set of curves.

Under DistributedDataParallel (or torch.compile) the critic's scores go through the wrapper,
in one forward over real and fake together, but the gradient penalty runs on the plain module:
DDP cannot differentiate through its all-reduce, and the recommended pattern
(pytorch/pytorch#63812) is an out-of-place `autograd.grad(create_graph=True)` inside each
process followed by one ordinary backward of loss + penalty, whose gradients then reach the
all-reduce hooks. The critic has no batch norm, so scoring real and fake in one batch is exact.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaudio.config import TrainConfig
from ganaudio.models.layers import unwrap


def _score(critic: nn.Module, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    return (critic(x) if cond is None else critic(x, cond)).float()  # (B,)


def _score_pair(critic, real, fake, cond):
    """Scores of real and (detached) fake in one forward: one DDP forward per backward."""
    x = torch.cat([real, fake.detach().to(real.dtype)])
    c = None if cond is None else torch.cat([cond, cond])
    s = _score(critic, x, c)
    return s[: real.shape[0]], s[real.shape[0]:]


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     cond: torch.Tensor | None = None) -> torch.Tensor:
    """E[(‖∇D(x̂)‖₂ − 1)²] on x̂ = ε·real + (1−ε)·fake, ε ~ U(0,1) per sample (Gulrajani et al. 2017).

    Computed in fp32 with autocast off: bf16 gradients of the critic are too coarse for a
    penalty that pulls a norm to exactly 1.
    """
    plain = unwrap(critic)
    real, fake = real.detach().float(), fake.detach().float()
    eps = torch.rand(real.shape[0], *[1] * (real.dim() - 1), device=real.device)  # (B, 1, …)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    with torch.autocast(device_type=real.device.type, enabled=False):
        scores = _score(plain, x_hat, cond)
        (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


class WGANGP:
    """Wasserstein loss with gradient penalty (WaveGAN/SpecGAN's recipe, λ = 10)."""

    def __init__(self, gp_weight: float = 10.0):
        self.gp_weight = gp_weight

    def critic_loss(self, critic, real, fake, cond=None):
        d_real, d_fake = _score_pair(critic, real, fake, cond)
        gp = gradient_penalty(critic, real, fake, cond)
        loss = d_fake.mean() - d_real.mean() + self.gp_weight * gp
        w = (d_real.mean() - d_fake.mean()).detach()
        return loss, {"adv/critic_loss": loss.detach(), "adv/wasserstein": w, "adv/gp": gp.detach()}

    def generator_loss(self, critic, fake, cond=None):
        loss = -_score(critic, fake, cond).mean()
        return loss, {"adv/gen_loss": loss.detach()}


class Hinge:
    """Hinge loss (Lim & Ye 2017; SNGAN, BigGAN): the critic only learns from margin violations."""

    def critic_loss(self, critic, real, fake, cond=None):
        d_real, d_fake = _score_pair(critic, real, fake, cond)
        loss = torch.relu(1 - d_real).mean() + torch.relu(1 + d_fake).mean()
        w = (d_real.mean() - d_fake.mean()).detach()
        return loss, {"adv/critic_loss": loss.detach(), "adv/wasserstein": w, "adv/gp": torch.zeros_like(w)}

    def generator_loss(self, critic, fake, cond=None):
        loss = -_score(critic, fake, cond).mean()
        return loss, {"adv/gen_loss": loss.detach()}


def build_loss(cfg: TrainConfig) -> WGANGP | Hinge:
    if cfg.loss == "wgan-gp":
        return WGANGP(cfg.gp_weight)
    if cfg.loss == "hinge":
        return Hinge()
    raise ValueError(f"train.loss is {cfg.loss!r}; choose 'wgan-gp' or 'hinge'")
