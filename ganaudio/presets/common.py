"""Preset pieces shared by several GANs: an edit here reruns each GAN that uses them."""

from __future__ import annotations

# SpectoGAN's and WaveGAN's `cpu` recipes are sized for 2 cores: the hinge loss with spectral norm and
# one critic step learns far more per CPU-minute than WGAN-GP's five critic steps (measured: IS 4.0
# vs 1.75 in 15 min).
_CPU_TRAIN = {
    "loss": "hinge", "spectral_norm": True, "critic_steps": 1,
    "lr_g": 1e-4, "lr_d": 4e-4, "betas": [0.0, 0.9], "ema_decay": 0.999,
}

_DEBUG_TRAIN = {"steps": 2, "batch_size": 4, "checkpoint_every": 1, "log_every": 1}
_DEBUG_DIGITS = {"render": {"n_samples": 2, "interpolation_steps": 3},  # render and eval of both digit GANs
                 "eval": {"n_samples": 20, "is_splits": 2, "ndb_bins": 4}}
