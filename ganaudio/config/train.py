"""The GAN training recipe every GAN section holds under `train`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional

from ganaudio.config.core import Beta, Count, NonNegative, Positive, Range, Seed


@dataclass
class TrainConfig:
    """The shared GAN recipe; defaults are WaveGAN/SpecGAN's WGAN-GP."""

    loss: Literal["wgan-gp", "hinge"] = "wgan-gp"
    gp_weight: NonNegative = 10.0
    r1_weight: NonNegative = 0.0  # γ of the zero-centred penalty (γ/2)·E‖∇D(real)‖² (R1), for either loss
    r2_weight: NonNegative = 0.0  # the same on fakes (R2)
    augment: list[str] = field(default_factory=list)  # DiffAugment policies for the critic: time, freq, cutout, gain
    critic_steps: Count = 5
    spectral_norm: bool = False
    lr_g: Positive = 1e-4
    lr_d: Positive = 1e-4
    betas: tuple[Beta, Beta] = (0.5, 0.9)
    batch_size: Count = 64
    steps: Count = 2000
    checkpoint_every: Count = 200
    log_every: Count = 10
    seed: Seed = 0  # seeds the model init (before the models are built), the batches and every draw
    # The recipe's arithmetic, where a preset was screened in it: null follows runtime.precision;
    # auto: bf16 autocast where the hardware has it natively (fp32 master weights), fp32 elsewhere.
    precision: Optional[Literal["auto", "fp32", "bf16"]] = None
    ema_decay: Beta = 0.0  # 0: off; else the generator's EMA (e.g. 0.999) is what is sampled and evaluated
    init_from: Optional[str] = None  # warm start: null | champion (the registry's champion) | a checkpoint path
    monitor_every: Annotated[int, Range(lo=0)] = 0  # 0: off; else score the generator on the valid split every N steps, keep best.pt
    monitor_patience: Annotated[int, Range(lo=0)] = 0  # 0: train all steps; else stop after N monitor scores without a new best
