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

Two options apply to either loss. Zero-centred gradient penalties (Mescheder et al. 2018):
R1 = E‖∇D(x)‖² on real clips and R2 the same on fakes, each weighted γ/2, which keep the critic
flat where the data are instead of pulling its slope to 1 everywhere as WGAN-GP does. And
DiffAugment (Zhao et al. 2020): one differentiable augmentation applied to every batch the
critic sees, real and fake, in both the critic and the generator step, so a critic trained on
few clips cannot memorise them (ganaudio/training/augment.py).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from ganaudio.config import TrainConfig
from ganaudio.training.augment import build_augment
from ganaudio.models.layers import unwrap

Augment = Optional[Callable[[torch.Tensor], torch.Tensor]]


def _score(critic: nn.Module, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    return (critic(x) if cond is None else critic(x, cond)).float()  # (B,)


def _score_pair(critic, real, fake, cond, augment: Augment = None):
    """Scores of real and (detached) fake in one forward: one DDP forward per backward."""
    x = torch.cat([real, fake.detach().to(real.dtype)])
    if augment is not None:
        x = augment(x)  # each clip draws its own transform, real and fake alike
    c = None if cond is None else torch.cat([cond, cond])
    s = _score(critic, x, c)
    return s[: real.shape[0]], s[real.shape[0]:]


def zero_centred_penalty(critic: nn.Module, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
    """E[‖∇ₓD(x)‖₂²] at the given clips themselves: R1 on real ones, R2 on fakes (Mescheder et al. 2018).

    Like `gradient_penalty`: on the plain module, in fp32 with autocast off, differentiable in the
    critic's weights. `x` is what the critic saw (already augmented, when augmenting).
    """
    plain = unwrap(critic)
    x = x.detach().float().requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        scores = _score(plain, x, cond)
        (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()


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


class _Adversarial:
    """What both losses share: optional augmentation and zero-centred penalties (logged even at weight 0)."""

    def __init__(self, r1_weight: float = 0.0, r2_weight: float = 0.0, augment: Augment = None):
        self.r1_weight, self.r2_weight, self.augment = r1_weight, r2_weight, augment

    def _view(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.augment is None else self.augment(x)

    def _penalties(self, critic, real, fake, cond) -> tuple[torch.Tensor, dict]:
        """(γ₁/2)·R1 + (γ₂/2)·R2 on freshly augmented views; a zero weight costs no forward."""
        zero = torch.zeros((), device=real.device)
        r1 = zero_centred_penalty(critic, self._view(real), cond) if self.r1_weight else zero
        r2 = zero_centred_penalty(critic, self._view(fake.detach().to(real.dtype)), cond) if self.r2_weight else zero
        total = 0.5 * (self.r1_weight * r1 + self.r2_weight * r2)
        return total, {"adv/r1": r1.detach(), "adv/r2": r2.detach()}

    def generator_loss(self, critic, fake, cond=None):
        loss = -_score(critic, self._view(fake), cond).mean()
        return loss, {"adv/gen_loss": loss.detach()}


class WGANGP(_Adversarial):
    """Wasserstein loss with gradient penalty (WaveGAN/SpecGAN's recipe, λ = 10)."""

    def __init__(self, gp_weight: float = 10.0, **options):
        super().__init__(**options)
        self.gp_weight = gp_weight

    def critic_loss(self, critic, real, fake, cond=None):
        d_real, d_fake = _score_pair(critic, real, fake, cond, self.augment)
        gp = gradient_penalty(critic, self._view(real), self._view(fake), cond)
        penalty, m_pen = self._penalties(critic, real, fake, cond)
        loss = d_fake.mean() - d_real.mean() + self.gp_weight * gp + penalty
        w = (d_real.mean() - d_fake.mean()).detach()
        return loss, {"adv/critic_loss": loss.detach(), "adv/wasserstein": w, "adv/gp": gp.detach(), **m_pen}


class Hinge(_Adversarial):
    """Hinge loss (Lim & Ye 2017; SNGAN, BigGAN): the critic only learns from margin violations."""

    def critic_loss(self, critic, real, fake, cond=None):
        d_real, d_fake = _score_pair(critic, real, fake, cond, self.augment)
        penalty, m_pen = self._penalties(critic, real, fake, cond)
        loss = torch.relu(1 - d_real).mean() + torch.relu(1 + d_fake).mean() + penalty
        w = (d_real.mean() - d_fake.mean()).detach()
        return loss, {"adv/critic_loss": loss.detach(), "adv/wasserstein": w, "adv/gp": torch.zeros_like(w), **m_pen}


def build_loss(cfg: TrainConfig) -> WGANGP | Hinge:
    options = {"r1_weight": cfg.r1_weight, "r2_weight": cfg.r2_weight, "augment": build_augment(cfg.augment)}
    if cfg.loss == "wgan-gp":
        return WGANGP(cfg.gp_weight, **options)
    if cfg.loss == "hinge":
        return Hinge(**options)
    raise ValueError(f"train.loss is {cfg.loss!r}; choose 'wgan-gp' or 'hinge'")
