"""WaveGAN: phase shuffle exactly as specified, the 16,384-sample shapes, conditioning, the registry."""

import numpy as np
import pytest
import torch

from ganaudio.config import TrainConfig, WaveGANModelConfig
from ganaudio.models.registry import build_models, config_dict, load_generator
from ganaudio.models.wavegan import PhaseShuffle, WaveGANCritic, WaveGANGenerator, phase_shuffle
from ganaudio.training.state import TrainState, save_generator

SHAPE = (1, 16384)


def reference_shift(x: np.ndarray, s: int, n: int) -> np.ndarray:
    """y[t] = x[t - s] with numpy's reflection padding (edge sample not repeated): the spec, independently."""
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n, n)], mode="reflect")
    return padded[..., n - s: n - s + x.shape[-1]]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_phase_shuffle_shifts_each_example_by_its_own_amount_with_reflection(n):
    x = torch.randn(2 * n + 1, 3, 11)
    shifts = torch.arange(-n, n + 1)  # every allowed shift once, one per example
    y = phase_shuffle(x, shifts, n)
    for b, s in enumerate(shifts.tolist()):
        np.testing.assert_array_equal(y[b].numpy(), reference_shift(x[b].numpy(), s, n))
    # The edges hold reflected samples, not zeros or repeats: shifting right by 2 starts x2, x1, x0.
    if n >= 2:
        row = phase_shuffle(torch.arange(6.0).view(1, 1, 6), torch.tensor([2]), n)[0, 0]
        assert row.tolist() == [2, 1, 0, 1, 2, 3]


def test_phase_shuffle_module_draws_per_example_shifts_in_range_and_is_off_in_eval():
    n, batch = 2, 400
    layer = PhaseShuffle(n)
    base = torch.randn(1, 4, 32)
    x = base.repeat(batch, 1, 1)
    torch.manual_seed(0)
    y = layer(x)
    candidates = {s: torch.from_numpy(reference_shift(base[0].numpy(), s, n)) for s in range(-n, n + 1)}
    seen = []
    for row in y:
        match = [s for s, c in candidates.items() if torch.equal(row, c)]
        assert len(match) == 1, "every example is the input shifted by exactly one s in [-n, n]"
        seen.append(match[0])
    counts = np.bincount(np.array(seen) + n, minlength=2 * n + 1)
    assert (counts > batch / (2 * n + 1) / 2).all(), f"shifts not uniform over [-n, n]: {counts}"
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(PhaseShuffle(0).train()(x), x)


def test_phase_shuffle_keeps_bf16_under_cpu_autocast():
    """CPU autocast pads in fp32; the shuffled copy must stay in its input's dtype (it crashed with
    "Index put requires the source and destination dtypes match")."""
    x = torch.randn(5, 3, 11).bfloat16()
    shifts = torch.tensor([-2, -1, 0, 1, 2])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = phase_shuffle(x, shifts, 2)
    assert y.dtype == torch.bfloat16
    assert torch.equal(y.float(), phase_shuffle(x.float(), shifts, 2))  # a shift is exact in any dtype
    critic = WaveGANCritic(WaveGANModelConfig(d=1, phase_shuffle=2)).train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        score = critic(torch.rand(2, 1, 16384) * 2 - 1)
    assert torch.isfinite(score.float()).all()


def test_shapes_follow_the_paper():
    cfg = WaveGANModelConfig(d=1)
    g, c = WaveGANGenerator(cfg, SHAPE), WaveGANCritic(cfg, SHAPE)
    assert len(g.ups) == len(c.downs) == 5
    assert [u.kernel_size[0] for u in g.ups] == [25] * 5 and [u.stride[0] for u in g.ups] == [4] * 5
    assert g.dense.out_features == 16 * 16 * cfg.d  # dense to 16 x 16d
    z = g.sample_latent(3)
    assert z.shape == (3, 100) and z.abs().max() <= 1  # uniform latent, as WaveGAN
    x = g(z)
    assert x.shape == (3, *SHAPE) and x.abs().max() <= 1.0  # tanh
    assert c(x).shape == (3,)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in [*g.modules(), *c.modules()])


def test_wrong_clip_length_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"\(1, 16000\) != \(1, 16384\).*dvc repro waves"):
        WaveGANGenerator(WaveGANModelConfig(d=1), (1, 16000))


def test_conditioning_changes_outputs_and_scores():
    cfg = WaveGANModelConfig(d=1, conditional=True, n_classes=3)
    g, c = WaveGANGenerator(cfg, SHAPE), WaveGANCritic(cfg, SHAPE).eval()
    z = g.sample_latent(1).repeat(2, 1)
    labels = torch.tensor([0, 2])
    x = g(z, labels)
    assert not torch.allclose(x[0], x[1])  # same z, different digit
    same = x[:1].repeat(2, 1, 1)
    with torch.no_grad():
        c.project.weight.normal_()
    scores = c(same, labels)
    assert not torch.isclose(scores[0], scores[1])  # the projection reads the label
    with pytest.raises(ValueError, match="WaveGAN generator is conditional"):
        g(z)


def test_nearest_upsampling_writes_the_clip_without_transposed_convolutions():
    cfg = WaveGANModelConfig(d=1, upsample="nearest", kernel_size=9)
    g = WaveGANGenerator(cfg, SHAPE)
    assert not any(isinstance(m, torch.nn.ConvTranspose1d) for m in g.modules())
    x = g(g.sample_latent(2))
    assert x.shape == (2, *SHAPE) and x.abs().max() <= 1
    # a constant input stays constant through nearest upsampling and a convolution away from the edges:
    # no stride-periodic pattern (the transposed convolution's checkerboard) is created
    up = g.ups[0]
    with torch.no_grad():
        y = up(torch.ones(1, up[1].in_channels, 64))
    inner = y[0, :, 8:-8]
    assert torch.allclose(inner, inner[:, :1].expand_as(inner), atol=1e-5)
    with pytest.raises(ValueError, match="upsample is 'bilinear'"):
        WaveGANGenerator(WaveGANModelConfig(d=1, upsample="bilinear"))


def test_istft_generator_writes_the_clip_from_frames():
    cfg = WaveGANModelConfig(d=2, output="istft", istft_hop=64)
    g = WaveGANGenerator(cfg, SHAPE)
    assert len(g.ups) == 2  # 16 -> 64 -> 256 frames; no layer at 4,096 or 16,384 samples
    x = g(g.sample_latent(2))
    assert x.shape == (2, *SHAPE) and x.abs().max() <= 1 and x.std() > 0
    with pytest.raises(ValueError, match="istft_hop 48"):
        WaveGANGenerator(WaveGANModelConfig(d=1, output="istft", istft_hop=48))


def test_istft_head_inverts_a_real_clips_stft():
    """The head's synthesis is a true inverse STFT: a clip's own log-magnitudes and phases give the clip back."""
    head = WaveGANGenerator(WaveGANModelConfig(d=1, output="istft", istft_hop=64), SHAPE).head
    torch.manual_seed(0)
    t = torch.arange(SHAPE[1]) / 16000
    clip = 0.02 * torch.sin(2 * torch.pi * 440 * t) * torch.hann_window(SHAPE[1]) + 0.002 * torch.randn(SHAPE[1])
    spec = torch.stft(clip[None], head.n_fft, head.hop, window=torch.hann_window(head.n_fft), center=True,
                      return_complex=True)[..., :-1]  # the head writes n/hop frames, the last one is repeated
    out = head.synthesize(spec.abs().clamp(min=1e-12).log(), spec.angle())[0, 0]
    inner = slice(0, SHAPE[1] - 2 * head.n_fft)
    assert torch.allclose(out[inner], torch.tanh(clip[inner]), atol=1e-5)


def test_minibatch_std_lets_the_critic_see_a_collapsed_batch():
    torch.manual_seed(0)
    cfg = WaveGANModelConfig(d=1, minibatch_std=True, phase_shuffle=0)
    c = WaveGANCritic(cfg, SHAPE).eval()
    one = torch.randn(1, *SHAPE) * 0.3
    collapsed = one.repeat(4, 1, 1)
    varied = torch.cat([one, torch.randn(3, *SHAPE) * 0.3])
    with torch.no_grad():
        # the same first clip scores differently when its batch-mates are copies of it
        assert not torch.isclose(c(collapsed)[0], c(varied)[0])
        plain = WaveGANCritic(WaveGANModelConfig(d=1, phase_shuffle=0), SHAPE).eval()
        assert torch.isclose(plain(collapsed)[0], plain(varied)[0], atol=1e-6)


def test_registry_builds_and_reloads_wavegan(tmp_path):
    mc = WaveGANModelConfig(d=1, phase_shuffle=2)
    g, c = build_models("wavegan", mc, TrainConfig(spectral_norm=True), SHAPE)
    assert isinstance(g, WaveGANGenerator) and isinstance(c, WaveGANCritic)
    assert any("parametrizations" in name for name, _ in c.named_parameters())
    opt = torch.optim.Adam(g.parameters())
    save_generator(tmp_path / "generator.pt", TrainState("wavegan", g, c, opt, opt, {}, config_dict(mc), SHAPE, step=3))
    loaded, meta = load_generator(tmp_path / "generator.pt")
    assert meta["kind"] == "wavegan" and meta["data_shape"] == SHAPE
    z = g.sample_latent(2)
    torch.testing.assert_close(loaded(z), g.eval()(z))
