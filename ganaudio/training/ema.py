"""An exponential moving average of the generator's weights (Yazıcı et al. 2019, "The unusual
effectiveness of averaging in GAN training"): the average sits in the middle of the oscillation
that adversarial updates make, so its samples are steadier and usually score better than the
last iterate's. It is what generator.pt holds, what renders and what is evaluated.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ganaudio.models.layers import unwrap


def make_ema(generator: nn.Module) -> nn.Module:
    """A frozen copy of the (unwrapped) generator, in eval mode, that only `update_ema` changes."""
    ema = copy.deepcopy(unwrap(generator))
    ema.requires_grad_(False)
    return ema.eval()


def ema_decay(decay: float, step: int) -> float:
    """The decay at `step` (1-based): warmed up as (1 + step) / (10 + step), so the first steps,
    where the weights move most, are not dominated by the random initialisation."""
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_ema(ema: nn.Module, generator: nn.Module, decay: float) -> None:
    """ema <- decay · ema + (1 - decay) · generator for parameters; buffers are copied."""
    source = unwrap(generator)
    for e, p in zip(ema.parameters(), source.parameters()):
        e.lerp_(p.detach().to(e.dtype), 1.0 - decay)
    for e, b in zip(ema.buffers(), source.buffers()):
        e.copy_(b)
