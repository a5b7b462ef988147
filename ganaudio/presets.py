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
# under the hinge recipe (docs/PIANOGAN_EXPERIMENTS.md).

_CPU_TRAIN = {
    "loss": "hinge", "spectral_norm": True, "critic_steps": 1,
    "lr_g": 1e-4, "lr_d": 4e-4, "betas": [0.0, 0.9],
}
_PIANO_HEADS = {"pitch_head": "categorical", "time_head": "categorical", "key_latent": True,
                "global_bias": True, "critic_summary": True}
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
        # on 2 cores, so 2,000 steps in ~14 min (median gap closed 0.92, none negative).
        "cpu": {"model": {**_PIANO_HEADS, "d": 16},
                "train": {"critic_steps": 2, "batch_size": 32, "steps": 2000, "checkpoint_every": 250}},
        "paper": {"model": {**_PIANO_HEADS, "d": 64},
                  "train": {"steps": 100000, "checkpoint_every": 1000}, "eval": {"n_samples": 2048}},
        "debug": {"model": {**_PIANO_HEADS, "d": 4}, "train": _DEBUG_TRAIN,
                  "render": {"n_samples": 2, "interpolation_steps": 3}, "eval": {"n_samples": 8}},
    },
    "spectogan": {
        "cpu": {"model": {"d": 16}, "train": {**_CPU_TRAIN, "steps": 4000, "checkpoint_every": 250},
                "eval": {"n_samples": 1000}},
        "paper": {"model": {"d": 64}, "train": {"steps": 200000, "checkpoint_every": 2000},
                  "inversion": {"n_iter": 100}},
        "debug": {"model": {"d": 2}, "train": _DEBUG_TRAIN, "inversion": {"n_iter": 4}, **_DEBUG_DIGITS},
    },
    "wavegan": {
        "cpu": {"model": {"d": 8}, "train": {**_CPU_TRAIN, "batch_size": 32, "steps": 3000, "checkpoint_every": 250},
                "eval": {"n_samples": 1000}},
        "paper": {"model": {"d": 64}, "train": {"steps": 200000, "checkpoint_every": 2000}},
        "debug": {"model": {"d": 1}, "train": {**_DEBUG_TRAIN, "monitor_every": 2}, **_DEBUG_DIGITS},
    },
}
