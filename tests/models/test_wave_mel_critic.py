"""WaveGAN's log-mel critic: the view is the mels stage's spectrogram, standardised by the training
clips' statistics; both critics score every clip; the generator's gradient passes the STFT;
the statistics travel with a checkpoint; the losses train on both scores."""

import torch

from ganaudio.config import TrainConfig, WaveGANModelConfig
from ganaudio.data.mels import SpectrogramTransform
from ganaudio.losses.adversarial import Hinge
from ganaudio.models.registry import build_models
from ganaudio.models.wave_mel_critic import GEOMETRY, LogMelView, WaveMelCritic, mel_statistics

SHAPE = (1, 16384)
CFG = WaveGANModelConfig(d=2, mel_critic=True, mel_critic_d=2)


def tones(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(SHAPE[1]) / 16000
    freq = 200 + 3000 * torch.rand(n, 1, generator=g)
    return (0.3 * torch.sin(2 * torch.pi * freq * t) + 0.01 * torch.randn(n, SHAPE[1], generator=g))[:, None]


def test_view_is_the_mels_stage_spectrogram_standardised_by_the_clips_own_statistics():
    clips = tones(12)
    stats = mel_statistics(clips, batch=5)
    view = LogMelView(stats)(clips)
    assert view.shape == (12, 1, GEOMETRY.n_mels, GEOMETRY.n_frames)
    expected = SpectrogramTransform(GEOMETRY)(clips[:, 0])  # the stage's own transform, independently
    torch.testing.assert_close(view[:, 0] * stats["std"][:, None] * GEOMETRY.clip_std + stats["mean"][:, None], expected,
                               rtol=1e-4, atol=1e-4)
    per_bin = view[:, 0].transpose(0, 1).flatten(1)  # (M, N·T): zero mean, std 1/clip_std over the clips
    torch.testing.assert_close(per_bin.mean(1), torch.zeros(GEOMETRY.n_mels), atol=1e-4, rtol=0)
    torch.testing.assert_close(per_bin.std(1), torch.full((GEOMETRY.n_mels,), 1 / GEOMETRY.clip_std), atol=1e-3, rtol=0)


def test_both_critics_score_each_clip_and_the_generator_gradient_passes_the_spectrogram():
    torch.manual_seed(0)
    g, c = build_models("wavegan", CFG, TrainConfig(loss="hinge", spectral_norm=True), SHAPE,
                        mel_stats=mel_statistics(tones(8)))
    assert isinstance(c, WaveMelCritic)
    assert c(g(g.sample_latent(3))).shape == (3, 2)
    # The mel critic alone sends a gradient to every sample of a clip, through torch.stft.
    fake = tones(3, 5).requires_grad_(True)
    c.mel(c.view(fake)).sum().backward()
    assert torch.isfinite(fake.grad).all() and (fake.grad[:, 0, 1024:-1024] != 0).float().mean() > 0.99
    assert all(p.grad is None for p in c.wave.parameters())


def test_each_critic_learns_from_its_own_hinge_margin():
    torch.manual_seed(0)
    _, c = build_models("wavegan", CFG, TrainConfig(loss="hinge", spectral_norm=True), SHAPE)
    c.eval()  # no random phase shuffle or power iteration: the same scores on every call
    real, fake = tones(4, 1), tones(4, 2)
    loss, _ = Hinge().critic_loss(c, real, fake)
    d_real, d_fake = c(real), c(fake)
    want = torch.relu(1 - d_real).mean() + torch.relu(1 + d_fake).mean()  # the mean over both columns
    torch.testing.assert_close(loss, want)
    loss.backward()
    for part in (c.wave, c.mel):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


def test_the_statistics_are_buffers_a_resumed_critic_gets_back():
    stats = mel_statistics(tones(6))
    _, c = build_models("wavegan", CFG, TrainConfig(), SHAPE, mel_stats=stats)
    _, fresh = build_models("wavegan", CFG, TrainConfig(), SHAPE)  # placeholders: zeros and ones
    assert not torch.equal(fresh.view.mean, stats["mean"])
    fresh.load_state_dict(c.state_dict())
    torch.testing.assert_close(fresh.view.mean, stats["mean"])
    torch.testing.assert_close(fresh.view.std, stats["std"])
