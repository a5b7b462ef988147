"""WaveGAN through the shared loop: a short run of each preset's loss keeps finite losses and audible output.

The failures WaveGAN ports report most are losses that explode and generators that fall silent;
this is the cheap guard against both (tiny d, a few steps, tones instead of speech).
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
SILENCE_RMS = 1e-2  # -40 dBFS; the real clips' median RMS is ~0.06 (reports/data/waves.json)


def tones(n: int = 8) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    t = torch.arange(SHAPE[1]) / 16000
    freq = 200 + 600 * torch.rand(n, 1, generator=g)
    return TensorDataset((0.3 * torch.sin(2 * math.pi * freq * t) * torch.hann_window(SHAPE[1]))[:, None])


@pytest.mark.parametrize("preset", ["cpu", "paper"])
def test_short_run_keeps_losses_finite_and_output_audible(tmp_path, preset):
    cfg = params_from_dict({"wavegan": {"preset": preset, "model": {"d": 2},
                                        "train": {"steps": 4, "batch_size": 4, "critic_steps": 2, "log_every": 1,
                                                  "checkpoint_every": 4, "lr_g": 1e-3, "lr_d": 1e-3}}}).wavegan
    torch.manual_seed(0)
    g, c = build_models("wavegan", cfg.model, cfg.train, SHAPE)
    train_gan("wavegan", g, c, tones(), cfg.train, tmp_path, runtime=RUNTIME, model_config=config_dict(cfg.model),
              data_shape=SHAPE)
    df = pd.read_csv(tmp_path / "metrics.csv")
    losses = df[["adv/critic_loss", "adv/gen_loss", "adv/gp"]].to_numpy()
    assert len(df) == 4 and torch.isfinite(torch.from_numpy(losses)).all()
    assert (df["adv/gp"] > 0).all() == (cfg.train.loss == "wgan-gp")  # the paper's recipe is WGAN-GP
    with torch.no_grad():
        audio = g.eval()(g.sample_latent(16))[:, 0]  # (16, 16384)
    rms = audio.square().mean(1).sqrt()
    assert (rms > SILENCE_RMS).all(), f"silent output: RMS {rms.min():.2e} <= {SILENCE_RMS}"
    assert audio.abs().max() < 1.0  # tanh, never saturated to clicks at ±1
