"""PianoGAN's window-level parts: categorical time bins, the key latent and its data prior,
per-window logit biases and the critic's summary branch."""

import numpy as np
import pytest
import torch

from ganaudio.config import PianoGANModelConfig, TrainConfig
from ganaudio.data.datasets import NoteWindows
from ganaudio.data.windows import MIN_DURATION, NoteStats
from ganaudio.metrics.music import SCALES, key_statistics
from ganaudio.models.pianogan import (NoteEncoding, PianoCritic, PianoGenerator, fold_pitch_classes,
                                      tile_pitch_classes, time_bin_index, time_edges, time_values,
                                      window_summary)
from ganaudio.models.registry import build_models, config_dict, load_generator
from ganaudio.tasks.pianogan import generate_notes
from ganaudio.training.state import TrainState, save_generator

L = 16
FULL = {"pitch_head": "categorical", "time_head": "categorical", "time_bins": 16, "key_latent": True,
        "global_bias": True, "critic_summary": True}


def tiny(**kw) -> PianoGANModelConfig:
    return PianoGANModelConfig(latent_dim=16, d=1, seq_len=L, kernel_size=5, stride=4, **kw)


@pytest.mark.parametrize("name", ["step", "duration"])
def test_each_time_bin_value_falls_in_its_own_bin(name):
    values = time_values(name, 32)
    assert np.all(np.diff(time_edges(name, 32)) > 0)
    np.testing.assert_array_equal(time_bin_index(name, 32, values), np.arange(32))
    assert time_bin_index(name, 32, np.array([0.0]))[0] == 0  # a chord step is the first bin
    assert time_bin_index(name, 32, np.array([1e6]))[0] == 31  # no value falls off the end


def test_too_few_time_bins_is_a_clear_error():
    with pytest.raises(ValueError, match="time_bins"):
        time_edges("step", 2)


def test_dataset_one_hots_match_the_raw_notes(notes_dir):
    enc = NoteEncoding.of(tiny(**FULL))
    ds = NoteWindows(notes_dir, "train", encoding=enc)
    assert enc.sizes == (128, 16, 16, 1) and ds.data_shape == (161, L)
    x = ds[2]
    groups = x.split(list(enc.sizes))
    for g in groups[:3]:
        assert g.sum(0).eq(1).all()  # one-hot per note
    np.testing.assert_array_equal(groups[0].argmax(0).numpy(), ds.raw[2, :, 0].astype(int))
    np.testing.assert_array_equal(groups[1].argmax(0).numpy(), time_bin_index("step", 16, ds.raw[2, :, 1]))
    np.testing.assert_array_equal(groups[2].argmax(0).numpy(), time_bin_index("duration", 16, ds.raw[2, :, 2]))
    torch.testing.assert_close(groups[3][0], ds.x[2, 3])  # velocity stays continuous


def test_generated_time_values_are_exactly_the_bin_values(notes_dir):
    stats = NoteStats.from_json(notes_dir / "stats.json")
    cfg = tiny(**FULL)
    g, c = build_models("pianogan", cfg, TrainConfig(), (161, L), stats=stats)
    x = g(g.sample_latent(3))
    assert x.shape == (3, 161, L) and c(x).shape == (3,)
    raw = stats.denormalise(g.eval().features(g.sample_latent(5)).transpose(1, 2).double())
    for i, name in ((1, "step"), (2, "duration")):
        allowed = torch.tensor(time_values(name, 16), dtype=torch.float64)
        got = raw[..., i].reshape(-1, 1)
        # each generated value is one bin's value (up to float32 round trips) or a bound of denormalise's clip
        near = ((got - allowed).abs() / allowed).min(1).values
        lo, hi = (0.0, stats.step_max) if i == 1 else (MIN_DURATION, stats.duration_max)
        clipped = (got[:, 0] == lo) | (got[:, 0] == hi)
        assert ((near < 1e-3) | clipped).all()
        assert (near < 1e-3).any()


def test_key_is_a_function_of_z_and_follows_the_key_logits():
    g = PianoGenerator(tiny(pitch_head="categorical", key_latent=True))
    with torch.no_grad():
        g.key_logits.copy_(torch.log(torch.tensor([4.0, 1.0] + [0.0] * 10) + 1e-9))  # key 0: 80 %, key 1: 20 %
    z = g.sample_latent(4000, generator=torch.Generator().manual_seed(0))
    key = g.key_one_hot(z)
    torch.testing.assert_close(key, g.key_one_hot(z.clone()))  # no hidden randomness: z decides
    assert key.sum(1).eq(1).all()
    share = key.mean(0)
    assert 0.77 < share[0] < 0.83 and 0.17 < share[1] < 0.23 and share[2:].sum() < 1e-3


def test_key_bias_rotates_the_profile_to_each_key():
    g = PianoGenerator(tiny(pitch_head="categorical", key_latent=True))
    with torch.no_grad():
        g.key_profile.copy_(torch.arange(12.0))
    keys = torch.eye(12)
    bias = g.key_bias(keys)  # (12 keys, 12 pitch classes)
    for k in range(12):
        for c in range(12):
            assert bias[k, c] == (c - k) % 12
    tiled = tile_pitch_classes(bias[:1])  # (1, 128)
    assert tiled.shape == (1, 128) and all(tiled[0, p] == p % 12 for p in range(128))


def test_key_prior_makes_the_untrained_generator_play_in_key():
    # Windows in D major only: the prior learned from them must put the untrained generator in key.
    rng = np.random.default_rng(1)
    scale = np.flatnonzero(SCALES[2])  # D major's pitch classes
    pitch = 12 * rng.integers(4, 7, (40, L)) + rng.choice(scale, (40, L))
    raw = np.stack([pitch, np.full((40, L), 0.2), np.full((40, L), 0.5), np.full((40, L), 64)], -1)
    key_freq, profile = key_statistics(raw)
    assert key_freq.argmax() == 2 and key_freq[2] > 0.85  # every window in D; the rest is the smoothing
    assert profile[[1, 3, 6, 8, 10]].max() < 1e-3 < profile[[0, 2, 4, 5, 7, 9, 11]].min()  # tonic first

    cfg = tiny(pitch_head="categorical", key_latent=True)
    stats = NoteStats.fit(raw.astype(np.float32))

    def in_key(prior):
        torch.manual_seed(0)
        g, _ = build_models("pianogan", cfg, TrainConfig(), (131, L), stats=stats, key_prior=prior)
        feats = g.eval().features(g.sample_latent(64), "softmax", torch.Generator().manual_seed(0))
        pitch = np.rint(feats[:, 0].detach().double().numpy() * stats.std[0] + stats.mean[0])  # unclipped
        pc = np.stack([np.bincount(row.astype(int) % 12, minlength=12) for row in pitch])
        return ((pc @ SCALES.T).max(1) / L).mean()  # in_key_ratio's definition

    assert in_key((key_freq, profile)) > 0.95
    assert in_key(None) < 0.8  # without it, 128 near-uniform logits per note


def test_key_latent_needs_the_categorical_pitch_head():
    with pytest.raises(ValueError, match="key_latent needs pitch_head"):
        PianoGenerator(tiny(key_latent=True))


def test_window_summary_is_order_free_and_folds_pitch_classes():
    enc = NoteEncoding.of(tiny(**FULL))
    pitch = torch.tensor([60, 72, 62, 61] * 4)  # C, C, D, C#: pitch classes 0, 0, 2, 1
    idx = {"pitch": pitch, "step": torch.zeros(L, dtype=torch.long), "duration": torch.arange(L) % 16}
    x = enc.encode(idx, torch.randn(4, L))[None]  # (1, 161, L)
    s = window_summary(x, enc)
    assert s.shape == (1, 12 + 16 + 16 + 2)
    torch.testing.assert_close(s[0, :3], torch.tensor([0.5, 0.25, 0.25]))
    torch.testing.assert_close(window_summary(x[..., torch.randperm(L)], enc), s)  # a statistic of the set
    folded = fold_pitch_classes(torch.eye(128)[None])  # (1, 12, 128): pitch p counts in class p % 12
    assert torch.equal(folded[0].argmax(0), torch.arange(128) % 12)


def test_critic_summary_gives_a_finite_gradient_penalty_on_constant_channels():
    torch.manual_seed(0)
    c = PianoCritic(tiny(**FULL))
    x = torch.zeros(2, 161, L, requires_grad=True)  # every continuous channel constant: std's sqrt at 0
    (grad,) = torch.autograd.grad(c(x).sum(), x, create_graph=True)
    assert torch.isfinite(grad).all()
    grad.pow(2).sum().backward()  # the double backward WGAN-GP takes
    assert all(torch.isfinite(p.grad).all() for p in c.parameters() if p.grad is not None)


def test_load_generator_reproduces_the_full_model(tmp_path, notes_dir):
    stats = NoteStats.from_json(notes_dir / "stats.json")
    cfg = tiny(**FULL)
    g, c = build_models("pianogan", cfg, TrainConfig(), (161, L), stats=stats,
                        key_prior=(np.full(12, 1 / 12), np.linspace(1, 2, 12) / 18))
    opt = torch.optim.Adam(g.parameters())
    save_generator(tmp_path / "generator.pt", TrainState("pianogan", g, c, opt, opt, {}, config_dict(cfg), (161, L)))
    loaded, _ = load_generator(tmp_path / "generator.pt")
    g.eval()
    z = g.sample_latent(3)
    torch.testing.assert_close(loaded(z), g(z), rtol=0, atol=0)
    torch.testing.assert_close(loaded.key_profile, g.key_profile)
    a = generate_notes(tmp_path / "generator.pt", stats, 4, seed=5)
    assert a.shape == (4, L, 4)
    np.testing.assert_array_equal(a, generate_notes(tmp_path / "generator.pt", stats, 4, seed=5))


def test_register_latent_starts_at_the_data_mean_pitch_and_trims_the_tails(notes_dir):
    stats = NoteStats.from_json(notes_dir / "stats.json")
    cfg = tiny(pitch_head="categorical", register_latent=True)
    g, _ = build_models("pianogan", cfg, TrainConfig(), (131, L), stats=stats)
    z = g.sample_latent(4)
    bias = g.register_bias(z)  # (4, 128)
    assert bias.shape == (4, 128)
    best = int(bias[0].argmax())
    assert abs(best - stats.mean[0]) <= 1  # centre 0 in standardised pitch: the training mean
    assert bias[0, 0] < -3 and bias[0, 127] < -3  # MIDI's extremes, far outside the data, are suppressed
    torch.testing.assert_close(bias[0], bias[3])  # before training: the same register for every window
    with torch.no_grad():
        g.register.weight[0, 0] = 1.0  # the centre now follows z[:, 0]
    moved = g.register_bias(z)
    assert (moved.argmax(1) - bias.argmax(1)).abs().sum() > 0
    logits = g.logits(z)["pitch"]
    no_register, _ = build_models("pianogan", tiny(pitch_head="categorical"), TrainConfig(), (131, L), stats=stats)
    no_register.load_state_dict({k: v for k, v in g.state_dict().items() if not k.startswith("register")})
    torch.testing.assert_close(logits - no_register.logits(z)["pitch"], moved[..., None].expand_as(logits))


def test_register_latent_needs_a_categorical_pitch_head():
    with pytest.raises(ValueError, match="register_latent needs pitch_head"):
        PianoGenerator(tiny(register_latent=True))


def test_pitch_range_prior_starts_out_of_range_pitches_1000x_less_likely(notes_dir):
    stats = NoteStats.from_json(notes_dir / "stats.json")
    torch.manual_seed(0)
    plain, _ = build_models("pianogan", tiny(pitch_head="categorical"), TrainConfig(), (131, L), stats=stats)
    torch.manual_seed(0)
    cfg = tiny(pitch_head="categorical", pitch_range_prior=True)
    g, _ = build_models("pianogan", cfg, TrainConfig(), (131, L), stats=stats)
    shift = (g.pitch.bias - plain.pitch.bias).detach()
    inside = torch.zeros(128, dtype=torch.bool)
    inside[stats.pitch_min:stats.pitch_max + 1] = True
    assert torch.all(shift[inside] == 0)
    torch.testing.assert_close(shift[~inside], torch.full(((~inside).sum(),), float(np.log(1e-3))))
    assert out_of_range_share(g, stats) < 0.05 < out_of_range_share(plain, stats)


@torch.no_grad()
def out_of_range_share(g, stats, n=64) -> float:
    feats = g.eval().features(g.sample_latent(n, generator=torch.Generator().manual_seed(0)),
                              generator=torch.Generator().manual_seed(1))
    pitch = stats.denormalise(feats.transpose(1, 2).double().numpy(), clip_pitch=False)[..., 0]
    return float(((pitch < stats.pitch_min) | (pitch > stats.pitch_max)).mean())
