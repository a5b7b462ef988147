"""Tiny GANs and datasets for the loop tests: a PianoGAN over 16-note windows trains in ms, a
WaveGAN with phase shuffle over 512-sample clips in tens of ms."""

import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from ganaudio.config import PianoGANModelConfig, RuntimeConfig, SpectoGANModelConfig, TrainConfig, WaveGANModelConfig
from ganaudio.models.registry import build_models, config_dict

PIANO = PianoGANModelConfig(latent_dim=8, d=1, seq_len=16, kernel_size=5, stride=4)
SPEC = SpectoGANModelConfig(latent_dim=8, d=1, conditional=True, n_classes=3)
WAVE = WaveGANModelConfig(latent_dim=8, d=1, kernel_size=5, stride=2, phase_shuffle=2)  # 16 * 2^5 = 512 samples
WAVE_SHAPE = (1, 512)
RUNTIME = RuntimeConfig(workers=0, progress=False)


def tiny_train(**kw) -> TrainConfig:
    base = dict(steps=4, batch_size=4, critic_steps=2, checkpoint_every=2, log_every=1, seed=3)
    return TrainConfig(**{**base, **kw})


def piano_models(cfg: TrainConfig, seed: int = 0):
    torch.manual_seed(seed)
    return build_models("pianogan", PIANO, cfg, (4, 16))


def piano_data(n: int = 10) -> TensorDataset:
    g = torch.Generator().manual_seed(1)
    return TensorDataset(torch.randn(n, 4, 16, generator=g))


def wave_models(cfg: TrainConfig, seed: int = 0):
    torch.manual_seed(seed)
    return build_models("wavegan", WAVE, cfg, WAVE_SHAPE)


def wave_data(n: int = 10) -> TensorDataset:
    g = torch.Generator().manual_seed(1)
    return TensorDataset(torch.rand(n, *WAVE_SHAPE, generator=g) * 2 - 1)


class LabelledSpecs(Dataset):
    def __init__(self, n=9):
        g = torch.Generator().manual_seed(2)
        self.x = torch.rand(n, 1, 8, 8, generator=g) * 2 - 1
        self.y = torch.arange(n) % 3

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


@pytest.fixture
def piano_kwargs():
    return dict(runtime=RUNTIME, model_config=config_dict(PIANO), data_shape=(4, 16))


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: with a second thread, OpenMP hand-offs cost more than the math
    (and on a loaded machine, 100x more)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
