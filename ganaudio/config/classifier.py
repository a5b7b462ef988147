"""The `classifier` section: the digit classifier behind IS, FID and NDB."""

from __future__ import annotations

from dataclasses import dataclass

from ganaudio.config.core import Count, Positive, Seed


@dataclass
class ClassifierConfig:
    channels: Count = 32
    epochs: Count = 30
    patience: Count = 5
    batch_size: Count = 64
    lr: Positive = 1e-3
    augment: bool = True  # SpecAugment-style masks and small time shifts while training
    seed: Seed = 0
