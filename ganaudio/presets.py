"""Named presets: small overrides applied on top of the config dataclasses' defaults.

Kept apart from config.py so DVC can list this file as a dependency of exactly the stages
whose resolved parameters it changes (params.yaml records only the preset's name).
"""

from __future__ import annotations

from typing import Any

# Small overrides on top of the dataclass defaults (which are the paper recipe for training).
# SpectoGAN's `cpu` is sized for 2 cores: the hinge loss with spectral norm and one critic step
# learns far more per CPU-minute than WGAN-GP's five critic steps (measured: IS 4.0 vs 1.75 in
# 15 min). PianoGAN's `cpu` keeps WGAN-GP with two critic steps: its one-hot heads collapse
# under the hinge recipe (docs/PIANOGAN_EXPERIMENTS.md). On top of that SpectoGAN samples from
# an EMA of its generator and is conditional (a projection critic): chosen on the valid split,
# where conditioning beat the unconditional model at equal steps and DiffAugment did not help
# within this budget (docs/SPECTOGAN_EXPERIMENTS.md).

_CPU_TRAIN = {
    "loss": "hinge", "spectral_norm": True, "critic_steps": 1,
    "lr_g": 1e-4, "lr_d": 4e-4, "betas": [0.0, 0.9], "ema_decay": 0.999,
}
_SPECTO_MODEL = {"conditional": True, "d": 16, "kernel_size": 4, "minibatch_std": True}
_SPECTO_TRAIN = {**_CPU_TRAIN, "lr_g": 2e-4, "batch_size": 32, "steps": 6500, "checkpoint_every": 250}
_PIANO_HEADS = {"pitch_head": "categorical", "time_head": "categorical", "key_latent": True,
                "global_bias": True, "critic_summary": True, "pitch_range_prior": True}
_DEBUG_TRAIN = {"steps": 2, "batch_size": 4, "checkpoint_every": 1, "log_every": 1}
_DEBUG_DIGITS = {"render": {"n_samples": 2, "interpolation_steps": 3},  # render and eval of both digit GANs
                 "eval": {"n_samples": 20, "is_splits": 2, "ndb_bins": 4}}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "mels": {
        "cpu": {"n_fft": 1024, "hop_length": 256, "n_mels": 64, "n_frames": 64},
        "paper": {"n_fft": 1024, "hop_length": 128, "n_mels": 128, "n_frames": 128},
    },
    "pianogan": {
        # Measured (docs/PIANOGAN_EXPERIMENTS.md): categorical pitch and time, a key latent started from
        # the data's key statistics, window-level biases and critic features, trained with WGAN-GP —
        # the hinge recipe collapsed categorical time. 2 critic steps at d=16, batch 32: 2.4 steps/s
        # on 2 cores, so 2,000 steps in ~14 min. Screen 6 (valid split, the issue-9 structure score):
        # the pitch range prior lifts it from 0.14 to 0.53, so every preset starts out-of-range pitches unlikely.
        "cpu": {"model": {**_PIANO_HEADS, "d": 16},
                "train": {"critic_steps": 2, "batch_size": 32, "steps": 2000, "checkpoint_every": 250}},
        "paper": {"model": {**_PIANO_HEADS, "d": 64},
                  "train": {"steps": 100000, "checkpoint_every": 1000}, "eval": {"n_samples": 2048}},
        "debug": {"model": {**_PIANO_HEADS, "d": 4}, "train": _DEBUG_TRAIN,
                  "peer": {"embed": 4, "hidden": 8, "layers": 1, "steps": 2, "batch_size": 4, "log_every": 1},
                  "render": {"n_samples": 2, "interpolation_steps": 3}, "eval": {"n_samples": 8, "seeds": 2}},
    },
    "spectogan": {
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
    },
    "wavegan": {
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
    },
}
