"""DiffAugment for spectrograms (Zhao et al. 2020): differentiable transforms of what the critic sees.

A critic trained on a few thousand clips memorises them, its scores stop meaning anything for
new inputs, and the generator collapses onto what still fools it. DiffAugment applies the same
random family of transforms to every batch the critic scores, real and fake, in the critic and
the generator steps alike, so the generator is never pushed to produce augmented-looking clips
(augmenting only the real data would teach it to). Every transform here is a gather or a mask,
so gradients flow back to the generator unchanged where the clip survives.

Policies act on the last axis as time and, for (B, C, F, T) inputs, the one before as frequency;
each clip draws its own parameters from torch's global RNG (saved in checkpoints, so a resumed
run draws the same ones):

- `time`:   shift in time by up to 1/8 of the clip (DiffAugment's translation), padding with silence;
- `freq`:   shift in frequency by up to 1/16 of the bins (a small change of pitch and formants);
- `cutout`: silence one band of 1/4 of the frames and one of 1/4 of the bins (SpecAugment's masks,
            DiffAugment's cutout at a fixed size);
- `gain`:   add one offset in [-0.2, 0.2] to the whole clip (DiffAugment's brightness: a level change).
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

# The fill of shifted-out and cut-out cells: the floor of the normalised [-1, 1] range, below
# nearly every real cell (quiet frames of the embedded SC09 average about -0.6). An unmistakable
# "nothing", and the same for real and fake clips, so it tells the critic nothing about which is which.
SILENCE = -1.0
TIME_SHIFT, FREQ_SHIFT, CUTOUT, GAIN = 1 / 8, 1 / 16, 1 / 4, 0.2


def _shift(x: torch.Tensor, ratio: float, dim: int) -> torch.Tensor:
    """Shift each clip along `dim` by an integer in [-ratio·n, ratio·n], filling with SILENCE."""
    n = x.shape[dim]
    r = int(n * ratio)
    if r == 0:
        return x
    shift = torch.randint(-r, r + 1, (x.shape[0],), device=x.device)  # (B,)
    view = [1] * x.dim()
    view[dim] = n
    src = torch.arange(n, device=x.device).view(view) - shift.view([-1] + [1] * (x.dim() - 1))  # (B, 1.., n, 1..)
    inside = (src >= 0) & (src < n)
    out = x.gather(dim, src.clamp(0, n - 1).expand_as(x))
    return torch.where(inside, out, torch.full_like(out, SILENCE))


def _band_mask(x: torch.Tensor, ratio: float, dim: int) -> torch.Tensor:
    """(B, 1.., n, 1..) True inside one band of ratio·n positions per clip along `dim`."""
    n = x.shape[dim]
    width = max(int(n * ratio), 1)
    start = torch.randint(0, n - width + 1, (x.shape[0],), device=x.device)
    view = [1] * x.dim()
    view[dim] = n
    pos = torch.arange(n, device=x.device).view(view)
    start = start.view([-1] + [1] * (x.dim() - 1))
    return (pos >= start) & (pos < start + width)


def time_shift(x: torch.Tensor) -> torch.Tensor:
    return _shift(x, TIME_SHIFT, x.dim() - 1)


def freq_shift(x: torch.Tensor) -> torch.Tensor:
    if x.dim() < 4:
        raise ValueError(f"augment policy 'freq' needs (B, C, F, T) spectrograms, got shape {tuple(x.shape)}")
    return _shift(x, FREQ_SHIFT, x.dim() - 2)


def cutout(x: torch.Tensor) -> torch.Tensor:
    mask = _band_mask(x, CUTOUT, x.dim() - 1)
    if x.dim() >= 4:
        mask = mask | _band_mask(x, CUTOUT, x.dim() - 2)
    return x.masked_fill(mask, SILENCE)


def gain(x: torch.Tensor) -> torch.Tensor:
    offset = (torch.rand(x.shape[0], *[1] * (x.dim() - 1), device=x.device) * 2 - 1) * GAIN  # (B, 1, …)
    return x + offset.to(x.dtype)


POLICIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "time": time_shift, "freq": freq_shift, "cutout": cutout, "gain": gain}


def build_augment(policies: Sequence[str]) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
    """One function applying `policies` in order (None for an empty list: no augmentation)."""
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise ValueError(f"train.augment has unknown policies {unknown}; choose from {sorted(POLICIES)}")
    if not policies:
        return None
    chain = [POLICIES[p] for p in policies]

    def augment(x: torch.Tensor) -> torch.Tensor:
        for f in chain:
            x = f(x)
        return x

    return augment
