"""`pianogan` presets.

`cpu` keeps WGAN-GP with two critic steps: its one-hot heads collapse under the hinge recipe the
digit GANs use (docs/PIANOGAN_EXPERIMENTS.md).
"""

from __future__ import annotations

from typing import Any

from ganaudio.presets.common import _DEBUG_TRAIN

_PIANO_HEADS = {"pitch_head": "categorical", "time_head": "categorical", "key_latent": True,
                "global_bias": True, "critic_summary": True, "pitch_range_prior": True}

PRESETS: dict[str, dict[str, Any]] = {
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
}
