"""WaveGAN through the shared loop: a short run of each preset's loss learns, and stays finite and unclipped.

The failures WaveGAN ports report most are losses that explode and generators that fall silent
or saturate. Tiny width (d=4: at d=2 every unit of the generator is dead and it writes a constant),
60 steps on windowed tones: enough for the output to move from the initial near-constant offset
to a waveform with the data's level and a share of its energy where the tones are (below 1 kHz).
Flipping the generator's loss, or a learning rate too high to be stable, fails it.
"""

import math

import pandas as pd
import pytest
import torch
from torch.utils.data import TensorDataset

from ganaudio.config import params_from_dict
from ganaudio.models.registry import build_models, config_dict
from ganaudio.training.loop import train_gan

from .conftest import RUNTIME

SHAPE = (1, 16384)
SR = 16000


def tones(n: int = 8) -> torch.Tensor:
    """(n, 1, 16384) Hann-windowed sines of 200-800 Hz at 0.3."""
    g = torch.Generator().manual_seed(0)
    t = torch.arange(SHAPE[1]) / SR
    freq = 200 + 600 * torch.rand(n, 1, generator=g)
    return (0.3 * torch.sin(2 * math.pi * freq * t) * torch.hann_window(SHAPE[1]))[:, None]


def level(audio: torch.Tensor) -> float:
    """RMS around each clip's own mean: the waveform, not a DC offset."""
    return audio.std(-1).mean().item()


def low_share(audio: torch.Tensor, below_hz: float = 1000) -> float:
    """The share of the clips' energy (mean removed) below `below_hz`."""
    power = torch.fft.rfft(audio - audio.mean(-1, keepdim=True), dim=-1).abs().square()
    low = torch.fft.rfftfreq(audio.shape[-1], 1 / SR) < below_hz
    return (power[..., low].sum() / power.sum().clamp_min(1e-12)).item()


@pytest.mark.parametrize("preset", ["cpu", "paper"])
def test_a_short_run_learns_the_level_and_band_of_the_data_and_stays_finite(tmp_path, preset):
    cfg = params_from_dict({"wavegan": {"preset": preset, "model": {"d": 4},
                                        "train": {"steps": 60, "batch_size": 8, "critic_steps": 1 if preset == "cpu" else 2,
                                                  "log_every": 10, "checkpoint_every": 60, "lr_g": 1e-3, "lr_d": 1e-3,
                                                  "ema_decay": 0.0}}}).wavegan
    torch.manual_seed(0)
    g, c = build_models("wavegan", cfg.model, cfg.train, SHAPE)
    z = g.sample_latent(16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        before = g.eval()(z)[:, 0]  # (16, 16384)
    g.train()
    real = tones()
    train_gan("wavegan", g, c, TensorDataset(real), cfg.train, tmp_path, runtime=RUNTIME,
              model_config=config_dict(cfg.model), data_shape=SHAPE)
    df = pd.read_csv(tmp_path / "metrics.csv")
    losses = df[["adv/critic_loss", "adv/gen_loss", "adv/gp"]].to_numpy()
    assert len(df) == 6 and torch.isfinite(torch.from_numpy(losses)).all()
    assert (df["adv/gp"] > 0).all() == (cfg.train.loss == "wgan-gp")  # the paper's recipe is WGAN-GP
    with torch.no_grad():
        after = g.eval()(z)[:, 0]

    assert level(before) < 0.15 * level(real[:, 0])  # the start: a near-constant offset
    assert (after - before).norm() > 0.5 * before.norm(), "training did not move the output"
    ratio = level(after) / level(real[:, 0])
    assert 0.2 < ratio < 2.5, f"output level {ratio:.2f}x the data's: fell silent or blew up"
    assert after.abs().max() < 0.99, "saturated to clicks at ±1"
    assert low_share(after) > 5 * low_share(before), \
        f"energy below 1 kHz {low_share(before):.3f} -> {low_share(after):.3f}: not towards the tones"
