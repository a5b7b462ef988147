"""Shapes and wiring of the PianoGAN and SpecGAN networks, and the registry."""

import random

import pytest
import torch
from torch import nn

from ganaudio.config import PianoGANModelConfig, SpectoGANModelConfig, TrainConfig
from ganaudio.models.layers import down1d, up1d, up2d, up_padding, unwrap
from ganaudio.models.pianogan import PianoCritic, PianoGenerator
from ganaudio.models.registry import build_models, config_dict, load_generator
from ganaudio.models.specgan import SpecGANCritic, SpecGANGenerator, plan
from ganaudio.training.state import TrainState, save_generator


@pytest.mark.parametrize("seed", range(6))
def test_up_and_down_convs_scale_length_exactly(seed):
    rng = random.Random(seed)
    s = rng.choice([2, 3, 4])
    k = rng.randint(s, 26)
    length = rng.randint(1, 9)
    x = torch.randn(2, 3, length)
    y = up1d(3, 5, k, s)(x)
    assert y.shape == (2, 5, length * s)
    assert down1d(5, 3, k, s, spectral=False)(y).shape == (2, 3, length)


def test_up_padding_rejects_kernel_narrower_than_stride():
    with pytest.raises(ValueError, match="kernel_size 2 < stride 4"):
        up_padding(2, 4)


@pytest.mark.parametrize("d,spectral", [(2, False), (3, True)])
def test_pianogan_shapes_at_seq_256(d, spectral):
    cfg = PianoGANModelConfig(d=d)  # seq_len 256, kernel 25, stride 4
    g, c = PianoGenerator(cfg), PianoCritic(cfg, spectral_norm=spectral)
    b = random.randint(1, 5)
    x = g(g.sample_latent(b))
    assert x.shape == (b, 4, 256)
    assert c(x).shape == (b,)


def test_pianogan_output_is_not_squashed():
    # No tanh: standardised step/duration must be able to exceed |1|.
    g = PianoGenerator(PianoGANModelConfig(d=2, seq_len=16, kernel_size=5))
    with torch.no_grad():
        g.out.bias.fill_(3.0)
        assert g(g.sample_latent(2)).max() > 1.5


def test_pianogan_rejects_unusable_seq_len():
    with pytest.raises(ValueError, match="seq_len 10"):
        PianoGenerator(PianoGANModelConfig(seq_len=10))


def test_categorical_pitch_head_builds_131_channels():
    g = PianoGenerator(PianoGANModelConfig(d=2, pitch_head="categorical"))
    assert g(g.sample_latent(2)).shape == (2, 131, 256)  # 128 one-hot pitches + step, duration, velocity


@pytest.mark.parametrize("shape,layers", [((1, 64, 64), 4), ((1, 128, 128), 5), ((1, 32, 64), 3)])
@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("kernel_size", [4, 5])  # the cpu preset's 4, the paper's 5
def test_specgan_shapes_follow_the_data(shape, layers, conditional, kernel_size):
    cfg = SpectoGANModelConfig(d=1, conditional=conditional, kernel_size=kernel_size)
    g, c = SpecGANGenerator(cfg, shape), SpecGANCritic(cfg, shape, spectral_norm=conditional)
    assert len(g.ups) == len(c.downs) == layers == plan(shape)[0]
    b = random.randint(1, 4)
    labels = torch.randint(0, 10, (b,)) if conditional else None
    x = g(g.sample_latent(b), labels)
    assert x.shape == (b, *shape)
    assert x.abs().max() <= 1.0  # tanh: the data are in [-1, 1]
    assert c(x, labels).shape == (b,)


def test_specgan_conditioning_changes_outputs_and_scores():
    shape = (1, 16, 16)
    cfg = SpectoGANModelConfig(d=1, conditional=True)
    g, c = SpecGANGenerator(cfg, shape), SpecGANCritic(cfg, shape)
    z = g.sample_latent(1).repeat(2, 1)
    x = g(z, torch.tensor([0, 1]))
    assert not torch.allclose(x[0], x[1])
    same = x[:1].repeat(2, 1, 1, 1)
    s = c(same, torch.tensor([2, 3]))
    assert not torch.allclose(s[0], s[1])  # the projection term depends on the label
    with pytest.raises(ValueError, match="pass labels"):
        g(z)


@pytest.mark.parametrize("shape", [(1, 64, 64), (1, 32, 64)])
def test_nearest_upsampling_generator_has_the_same_shapes_and_no_transposed_conv(shape):
    cfg = SpectoGANModelConfig(d=1, upsample="nearest")
    g = SpecGANGenerator(cfg, shape)
    assert g(g.sample_latent(3)).shape == (3, *shape)
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in g.modules())
    with pytest.raises(ValueError, match="upsample is 'bilinear'"):
        SpecGANGenerator(SpectoGANModelConfig(d=1, upsample="bilinear"), shape)


def test_nearest_upsampling_has_no_checkerboard_at_initialisation():
    # A stride-2 transposed conv from a constant input gives a periodic (2x2) pattern; nearest +
    # conv gives a constant away from the borders.
    torch.manual_seed(0)
    from ganaudio.models.specgan import upsampler

    x = torch.ones(1, 4, 8, 8)
    for how, periodic in (("transposed", True), ("nearest", False)):
        y = upsampler(4, 1, 5, how)(x)[0, 0, 4:-4, 4:-4]  # (8, 8) interior
        spread = (y - y.mean()).abs().max().item()
        assert (spread > 1e-4) == periodic, how


def test_specgan_minibatch_std_critic_sees_batch_spread():
    shape = (1, 16, 16)
    c = SpecGANCritic(SpectoGANModelConfig(d=1, minibatch_std=True), shape)
    x = torch.randn(4, *shape)
    same = x[:1].repeat(4, 1, 1, 1)
    # the first clip's score depends on its batch-mates only through the std channel
    assert not torch.allclose(c(x)[0], c(same)[0])
    assert c(x).shape == (4,)


def test_specgan_rejects_odd_shapes():
    with pytest.raises(ValueError, match="n_mels"):
        plan((1, 60, 64))


def test_build_models_both_kinds_and_spectral_norm_flag():
    tc = TrainConfig(spectral_norm=True)
    g, c = build_models("pianogan", PianoGANModelConfig(d=2), tc, (4, 256))
    assert isinstance(g, PianoGenerator) and isinstance(c, PianoCritic)
    assert any("parametrizations" in n for n, _ in c.named_parameters())
    assert not any("parametrizations" in n for n, _ in g.named_parameters())
    g, c = build_models("spectogan", SpectoGANModelConfig(d=1), TrainConfig(), (1, 64, 64))
    assert not any("parametrizations" in n for n, _ in c.named_parameters())
    with pytest.raises(ValueError, match="seq_len"):
        build_models("pianogan", PianoGANModelConfig(d=2), tc, (4, 128))
    with pytest.raises(ValueError, match="unknown GAN kind"):
        build_models("melgan", PianoGANModelConfig(), tc, (4, 256))


def test_load_generator_rebuilds_from_generator_file(tmp_path):
    mc = SpectoGANModelConfig(d=1, conditional=True)
    g, c = build_models("spectogan", mc, TrainConfig(), (1, 32, 32))
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.1)  # not the init a fresh build would give
    opt = torch.optim.Adam(g.parameters())
    state = TrainState("spectogan", g, c, opt, opt, {}, config_dict(mc), (1, 32, 32), step=7)
    save_generator(tmp_path / "generator.pt", state)
    loaded, meta = load_generator(tmp_path / "generator.pt")
    assert meta["kind"] == "spectogan" and meta["step"] == 7 and meta["data_shape"] == (1, 32, 32)
    assert not loaded.training
    z, y = g.sample_latent(3), torch.tensor([1, 2, 3])
    torch.testing.assert_close(loaded(z, y), g(z, y), rtol=0, atol=0)


def test_load_generator_names_a_bad_file(tmp_path):
    bad = tmp_path / "junk.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt"):
        load_generator(bad)
    torch.save({"generator": {}}, tmp_path / "partial.pt")
    with pytest.raises(ValueError, match="missing kind"):
        load_generator(tmp_path / "partial.pt")


def test_unwrap_peels_compile_wrapper():
    m = nn.Linear(2, 2)
    assert unwrap(torch.compile(m)) is m
    assert unwrap(m) is m


@pytest.mark.parametrize("kernel_size,even", [(4, True), (5, False)])
def test_transposed_kernel_divisible_by_the_stride_covers_every_pixel_evenly(kernel_size, even):
    # Why the cpu preset uses 4x4 kernels: with all-ones weights, each output pixel of a stride-2
    # transposed conv sums as many taps as cover it. 4 = 2x2 taps everywhere; 5 alternates 9/6/4.
    up = up2d(1, 1, kernel_size)
    with torch.no_grad():
        up.weight.fill_(1.0)
        up.bias.zero_()
    y = up(torch.ones(1, 1, 8, 8))[0, 0, 4:-4, 4:-4]  # the interior, away from the borders
    assert y.shape == (8, 8)
    assert bool((y == y[0, 0]).all()) == even, y
