"""`wavegan` presets."""

from __future__ import annotations

from typing import Any

from ganaudio.presets.common import _CPU_TRAIN, _DEBUG_DIGITS, _DEBUG_TRAIN

PRESETS: dict[str, dict[str, Any]] = {
    # SpectoGAN's cpu recipe at lr_g = lr_d = 4e-4 (valid FID after 500/1,000 steps: 369/377 vs 486/424 at
    # lr_g 1e-4; WGAN-GP with one critic step: 532 at 500), with a generator EMA. 8,000 steps take as long
    # as SpectoGAN's 4,000 (benchmarks/bench_gan_steps.py: 2.1x its steps/s). The monitor scores valid FID
    # every 500 steps, keeps best.pt and stops after 3,000 steps without a new best.
    "cpu": {"model": {"d": 8},
            "train": {**_CPU_TRAIN, "lr_g": 4e-4, "batch_size": 32, "steps": 8000, "checkpoint_every": 250,
                      "ema_decay": 0.999, "monitor_every": 500, "monitor_patience": 6},
            "eval": {"n_samples": 1000}},
    "paper": {"model": {"d": 64}, "train": {"steps": 200000, "checkpoint_every": 2000}},
    "debug": {"model": {"d": 1}, "train": {**_DEBUG_TRAIN, "monitor_every": 2}, **_DEBUG_DIGITS},
}
