"""A tiny mels folder and digit classifier for the task tests: tone "digits" at 16x16."""

import dataclasses

import pytest
import torch

from ganaudio.config import MelsConfig
from ganaudio.data.mels import SpectrogramTransform, fit_stats, normalise
from ganaudio.models.classifier import DigitClassifier

CFG = MelsConfig(n_fft=128, hop_length=32, n_mels=16, n_frames=16)


def tones(n, seed, offset=0.0):
    """n clips of hop·frames samples: a sine whose pitch depends on the digit, plus noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    t = torch.arange(CFG.hop_length * CFG.n_frames) / CFG.sample_rate
    freq = 300.0 + offset + 250.0 * labels[:, None] + 20 * torch.randn(n, 1, generator=g)
    return 0.5 * torch.sin(2 * torch.pi * freq * t) + 0.01 * torch.randn(n, len(t), generator=g), labels


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """(mels_dir, {split: (audio, labels)}): read-only, shared by a module's tests."""
    tmp_path = tmp_path_factory.mktemp("mels")
    transform = SpectrogramTransform(CFG)
    audio = {s: tones(40, seed) for s, seed in (("train", 0), ("valid", 1), ("test", 2))}
    audio["test"] = tones(40, 2, offset=120.0)  # a test set unlike valid, so the two FIDs differ
    stats = fit_stats(transform.log_magnitude(audio["train"][0]), CFG)
    for split, (wav, labels) in audio.items():
        x = normalise(transform.log_magnitude(wav), stats, CFG)[:, None]
        torch.save({"x": x, "labels": labels, "speakers": ["s"] * len(x), "files": [f"{i}.wav" for i in range(len(x))]},
                   tmp_path / f"{split}.pt")
    torch.save({**stats.to_dict(), "config": dataclasses.asdict(CFG)}, tmp_path / "stats.pt")
    torch.manual_seed(0)
    kwargs = {"n_bins": CFG.n_mels, "n_frames": CFG.n_frames, "channels": 4}
    torch.save({"state_dict": DigitClassifier(**kwargs).state_dict(), "kwargs": kwargs}, tmp_path / "clf.pt")
    return tmp_path, audio
