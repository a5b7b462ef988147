"""`spectogan` presets.

On top of the shared cpu recipe (common.py) SpectoGAN samples from an EMA of its generator and is
conditional (a projection critic): chosen on the valid split, where conditioning beat the
unconditional model at equal steps and DiffAugment did not help within this budget
(docs/SPECTOGAN_EXPERIMENTS.md).
"""

from __future__ import annotations

from typing import Any

from ganaudio.presets.common import _CPU_TRAIN, _DEBUG_DIGITS, _DEBUG_TRAIN

_SPECTO_MODEL = {"conditional": True, "d": 16, "kernel_size": 4, "minibatch_std": True}
_SPECTO_TRAIN = {**_CPU_TRAIN, "lr_g": 2e-4, "batch_size": 32, "steps": 6500, "checkpoint_every": 250}

PRESETS: dict[str, dict[str, Any]] = {
    # Screen 3 (docs/SPECTOGAN_EXPERIMENTS.md, valid split, equal minutes): 4x4 kernels (no uneven
    # overlap; 1.4x the steps/s of 5x5), batch 32 and lr_g 2e-4 reach valid FID 37 where the
    # 5x5 / batch 64 / 1e-4 recipe reached 101 in more time; the critic's minibatch-std channel
    # then edged every figure (FID 34, NDB/k 0.44). The screen ran 7,900 steps (1,150 s at the
    # benchmark's 6.9 steps/s); the real loop runs 5.7 steps/s on 2 idle cores, so the preset takes
    # 6,500 steps: ~19 min.
    "cpu": {"model": _SPECTO_MODEL, "train": _SPECTO_TRAIN, "eval": {"n_samples": 1000}},
    # One GPU, about 10 minutes: the cpu recipe at the paper's width (d=64) and 4x the batch,
    # on the same 64x64 mels (no data stage rerun). Not yet timed on a GPU: the step count is an
    # estimate, 1.24 TFLOP per step (torch's FlopCounterMode at d=64, batch 128, 4x4 kernels; 1.94
    # with 5x5) at ~90 TFLOP/s sustained bf16 on small convs (H100/H200 class) gives ~70 steps/s
    # at best; 25k steps in 10 min needs 42 steps/s, ~52 TFLOP/s sustained.
    # After a first run, set steps to 600 x the `other/steps_per_s` its metrics.csv shows.
    "gpu": {"model": {**_SPECTO_MODEL, "d": 64}, "train": {**_SPECTO_TRAIN, "batch_size": 128, "steps": 25000,
                                           "checkpoint_every": 1000, "log_every": 50},
            "eval": {"n_samples": 5000}},
    "paper": {"model": {"d": 64}, "train": {"steps": 200000, "checkpoint_every": 2000},
              "inversion": {"n_iter": 100}},
    "debug": {"model": {**_SPECTO_MODEL, "d": 2}, "train": _DEBUG_TRAIN, "inversion": {"n_iter": 4}, **_DEBUG_DIGITS},
}
