"""The shared WaveGAN-protocol judge: analysis identical to the mels stage, split chosen by the caller."""

import dataclasses

import pytest
import torch

from ganaudio.config import MelsConfig
from ganaudio.data.mels import SpectrogramTransform, fit_stats, normalise
from ganaudio.models.classifier import DigitClassifier
from ganaudio.tasks.judge import DigitJudge

CFG = MelsConfig(n_fft=128, hop_length=32, n_mels=16, n_frames=16)


def tones(n, seed, offset=0.0):
    """n clips of hop·frames samples: a sine whose pitch depends on the digit, plus noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    t = torch.arange(CFG.hop_length * CFG.n_frames) / CFG.sample_rate
    freq = 300.0 + offset + 250.0 * labels[:, None] + 20 * torch.randn(n, 1, generator=g)
    return 0.5 * torch.sin(2 * torch.pi * freq * t) + 0.01 * torch.randn(n, len(t), generator=g), labels


@pytest.fixture
def judged(tmp_path):
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


def test_analysis_is_the_mels_stage_analysis(judged):
    mels_dir, audio = judged
    judge = DigitJudge(mels_dir, mels_dir / "clf.pt", "valid", is_splits=2, ndb_bins=3)
    torch.testing.assert_close(judge.analyse(audio["valid"][0]), judge.real.x)


def test_split_decides_what_the_scores_compare_with(judged):
    mels_dir, audio = judged
    on_valid = DigitJudge(mels_dir, mels_dir / "clf.pt", "valid", is_splits=2, ndb_bins=3)
    on_test = DigitJudge(mels_dir, mels_dir / "clf.pt", "test", is_splits=2, ndb_bins=3)
    valid_audio = audio["valid"][0]
    assert on_valid.score_audio(valid_audio)["fid"] < 1e-6  # the valid clips themselves
    assert on_test.score_audio(valid_audio)["fid"] > 100 * max(on_valid.score_audio(valid_audio)["fid"], 1e-9)
    assert torch.equal(on_test.real.labels, audio["test"][1])


def test_train_split_is_refused(judged):
    mels_dir, _ = judged
    with pytest.raises(ValueError, match="train is what the GAN saw"):
        DigitJudge(mels_dir, mels_dir / "clf.pt", "train")
