"""PianoGAN's two pitch heads (continuous, categorical 128-way) and the minibatch-std critic."""

import random

import numpy as np
import pytest
import torch

from ganaudio.config import PianoGANModelConfig, TrainConfig
from ganaudio.data.datasets import NoteWindows
from ganaudio.data.windows import NoteStats
from ganaudio.models.pianogan import NoteEncoding, PianoCritic, PianoGenerator, minibatch_std
from ganaudio.models.registry import build_models, config_dict, load_generator
from ganaudio.tasks.pianogan import generate_notes
from ganaudio.training.state import TrainState, save_generator

L = 16


def tiny(**kw) -> PianoGANModelConfig:
    return PianoGANModelConfig(latent_dim=8, d=1, seq_len=L, kernel_size=5, stride=4, **kw)


def saved(tmp_path, cfg, stats=None, shape=None):
    """A generator perturbed off its init, saved as generator.pt; returns (generator, path)."""
    shape = shape or ((131 if cfg.pitch_head == "categorical" else 4), L)
    g, c = build_models("pianogan", cfg, TrainConfig(), shape, stats=stats)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.05 * torch.randn_like(p))
    opt = torch.optim.Adam(g.parameters())
    save_generator(tmp_path / "generator.pt", TrainState("pianogan", g, c, opt, opt, {}, config_dict(cfg), shape))
    return g.eval(), tmp_path / "generator.pt"


@pytest.mark.parametrize("head,channels", [("continuous", 4), ("categorical", 131)])
@pytest.mark.parametrize("mbstd", [False, True])
def test_shapes_of_both_heads(head, channels, mbstd):
    cfg = tiny(pitch_head=head, minibatch_std=mbstd)
    g, c = PianoGenerator(cfg), PianoCritic(cfg, spectral_norm=mbstd)
    b = random.choice([1, 3, 8])
    z = g.sample_latent(b)
    x = g(z)
    assert x.shape == (b, channels, L)
    assert c(x).shape == (b,)
    assert g.features(z).shape == (b, 4, L)


def test_straight_through_is_exactly_one_hot_and_passes_gradient():
    torch.manual_seed(0)
    g = PianoGenerator(tiny(pitch_head="categorical")).train()
    x = g(g.sample_latent(4))
    hot = x[:, :128]  # (B, 128, L)
    assert set(hot.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(hot.sum(1), torch.ones(4, L))
    (hot * torch.randn_like(hot)).sum().backward()  # a critic-like score of the one-hot alone
    assert g.pitch.weight.grad is not None and g.pitch.weight.grad.abs().sum() > 0


def test_training_draws_pitches_but_eval_takes_the_argmax():
    torch.manual_seed(1)
    g = PianoGenerator(tiny(pitch_head="categorical"))
    z = g.sample_latent(4)
    g.train()
    a, b = g(z)[:, :128].argmax(1), g(z)[:, :128].argmax(1)
    assert not torch.equal(a, b)  # Gumbel noise: a fresh draw each call
    g.eval()
    logits = g.logits(z)["pitch"]
    assert torch.equal(g(z)[:, :128].argmax(1), logits.argmax(1))
    assert torch.equal(g(z), g(z))


def test_real_one_hot_round_trips_the_midi_pitch(notes_dir):
    plain = NoteWindows(notes_dir, "train")
    hot = NoteWindows(notes_dir, "train", encoding=NoteEncoding(pitch_one_hot=True))
    assert plain.data_shape == (4, L) and hot.data_shape == (131, L)
    for i in range(len(hot)):
        x = hot[i]  # (131, L)
        assert x.shape == (131, L)
        assert x[:128].sum(0).eq(1).all()
        np.testing.assert_array_equal(x[:128].argmax(0).numpy(), hot.raw[i, :, 0].astype(np.int64))
        torch.testing.assert_close(x[128:], plain[i][1:])


def test_categorical_build_needs_stats_and_the_one_hot_shape(notes_dir):
    stats = NoteStats.from_json(notes_dir / "stats.json")
    with pytest.raises(ValueError, match="needs stats"):
        build_models("pianogan", tiny(pitch_head="categorical"), TrainConfig(), (131, L))
    with pytest.raises(ValueError, match="NoteEncoding"):
        build_models("pianogan", tiny(pitch_head="categorical"), TrainConfig(), (4, L), stats=stats)
    g, _ = build_models("pianogan", tiny(pitch_head="categorical"), TrainConfig(), (131, L), stats=stats)
    # The pitch table denormalises back to every MIDI pitch exactly.
    back = g.pitch_values.double() * stats.std[0] + stats.mean[0]
    torch.testing.assert_close(back, torch.arange(128, dtype=torch.float64), rtol=0, atol=1e-4)  # float32 buffer; rendering rounds


@pytest.mark.parametrize("sampling", ["softmax", "argmax"])
def test_generate_notes_gives_integer_midi_pitches_for_the_categorical_head(tmp_path, notes_dir, sampling):
    stats = NoteStats.from_json(notes_dir / "stats.json")
    g, path = saved(tmp_path, tiny(pitch_head="categorical"), stats)
    notes = generate_notes(path, stats, 5, seed=3, pitch_sampling=sampling)
    assert notes.shape == (5, L, 4)
    pitch = notes[..., 0]
    assert np.array_equal(pitch, np.round(pitch)) and pitch.min() >= 0 and pitch.max() <= 127
    again = generate_notes(path, stats, 5, seed=3, pitch_sampling=sampling)
    np.testing.assert_array_equal(notes, again)  # seeded, softmax draws included
    if sampling == "argmax":  # the argmax pitch, clipped to the observed range like any pitch
        z = g.sample_latent(5, generator=torch.Generator().manual_seed(3))
        want = g.logits(z)["pitch"].argmax(1).clamp(stats.pitch_min, stats.pitch_max)
        np.testing.assert_array_equal(pitch, want.numpy())


def test_softmax_sampling_follows_the_logits():
    g = PianoGenerator(tiny(pitch_head="categorical"), values={"pitch": torch.arange(128.0)}).eval()
    with torch.no_grad():
        g.pitch.weight.zero_()
        g.pitch.bias.fill_(-30.0)
        g.pitch.bias[[60, 64]] = 0.0  # half the mass on each
    pitch = g.features(g.sample_latent(64), sampling="softmax", generator=torch.Generator().manual_seed(0))[:, 0]
    assert set(pitch.unique().tolist()) == {60.0, 64.0}
    assert 0.4 < (pitch == 60).float().mean() < 0.6


@pytest.mark.parametrize("head", ["continuous", "categorical"])
def test_load_generator_reproduces_both_heads(tmp_path, notes_dir, head):
    stats = NoteStats.from_json(notes_dir / "stats.json")
    cfg = tiny(pitch_head=head, minibatch_std=True)
    g, path = saved(tmp_path, cfg, stats)
    loaded, meta = load_generator(path)
    assert meta["model_config"]["pitch_head"] == head
    z = g.sample_latent(3)
    torch.testing.assert_close(loaded(z), g(z), rtol=0, atol=0)
    for how in ("softmax", "argmax"):
        torch.testing.assert_close(loaded.features(z, how, torch.Generator().manual_seed(1)),
                                   g.features(z, how, torch.Generator().manual_seed(1)), rtol=0, atol=0)
    if head == "categorical":  # the pitch table came from the file, not the zeros placeholder
        torch.testing.assert_close(loaded.pitch_values, g.pitch_values, rtol=0, atol=0)
        assert loaded.pitch_values.abs().sum() > 0


def test_minibatch_std_sees_the_batch_diversity():
    torch.manual_seed(0)
    cfg = tiny(minibatch_std=True)
    c = PianoCritic(cfg).eval()
    x = torch.randn(4, 4, L)
    same, varied = x[:1].repeat(4, 1, 1), x.clone()
    varied[0] = x[0]
    same_score, varied_score = c(same)[0], c(torch.cat([x[:1], x[1:]]))[0]
    assert not torch.isclose(same_score, varied_score)  # sample 0 itself is identical in both batches
    plain = PianoCritic(tiny()).eval()
    torch.testing.assert_close(plain(same)[0], plain(x)[0])  # without it, a score is per sample


def test_minibatch_std_groups_keep_real_and_fake_apart():
    # The loss scores cat([real, fake]): with B % 4 == 0 the real half's feature ignores the fakes.
    h = torch.randn(8, 3, 5)
    a = minibatch_std(h)
    h2 = h.clone()
    h2[4:] = 0.0  # a fully collapsed "fake" half
    b = minibatch_std(h2)
    torch.testing.assert_close(a[:4], b[:4])
    assert b[4:].abs().max() < 1e-3 < a[4:].min()
    assert a.shape == (8, 1, 5)


def test_argmax_sampling_trains_on_exactly_the_notes_it_plays():
    # train_notes argmax: the training forward is the argmax one-hot (no per-note draw), so the
    # critic judges the sequence that sampling plays; the gradient still reaches the logits.
    torch.manual_seed(0)
    cfg = tiny(pitch_head="categorical", time_head="categorical", time_bins=16, train_notes="argmax",
               pitch_sampling="argmax")
    g = PianoGenerator(cfg).train()
    z = g.sample_latent(3)
    x, again = g(z), g(z)
    torch.testing.assert_close(x, again)  # no noise between two training passes
    torch.testing.assert_close(x, g.eval()(z))
    g.train()
    hot = g(z)[:, :128]
    (hot * torch.randn_like(hot)).sum().backward()
    assert g.pitch.weight.grad.abs().sum() > 0
    gumbel = PianoGenerator(tiny(pitch_head="categorical")).train()
    assert not torch.equal(gumbel(z), gumbel(z))  # the softmax path draws anew every pass


def test_position_noise_starts_silent_and_is_seeded_when_sampling():
    torch.manual_seed(0)
    cfg = tiny(pitch_head="categorical", pitch_sampling="argmax")
    plain = PianoGenerator(cfg).eval()
    torch.manual_seed(0)
    noisy = PianoGenerator(tiny(pitch_head="categorical", pitch_sampling="argmax", position_noise=True)).eval()

    z = plain.sample_latent(2)
    torch.testing.assert_close(noisy.features(z), plain.features(z))  # scales start at 0
    with torch.no_grad():
        for s in noisy.noise_scales:
            s.fill_(3.0)
    a = noisy.features(z, generator=torch.Generator().manual_seed(1))
    b = noisy.features(z, generator=torch.Generator().manual_seed(1))
    c = noisy.features(z, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)


def test_softmax_training_shows_the_critic_distributions_and_samples_their_argmax():
    torch.manual_seed(0)
    cfg = tiny(pitch_head="categorical", train_notes="softmax", pitch_sampling="argmax")
    g = PianoGenerator(cfg).train()
    z = g.sample_latent(2)
    soft = g(z)[:, :128]
    torch.testing.assert_close(soft.sum(1), torch.ones(2, L))
    assert 0 < soft.max() < 1  # a spread distribution, not a one-hot
    hard = g.eval()(z)[:, :128]
    torch.testing.assert_close(hard.argmax(1), soft.argmax(1))
    assert set(hard.unique().tolist()) == {0.0, 1.0}


def test_training_without_draws_needs_argmax_sampling():
    from ganaudio.config import ConfigError, params_from_dict

    with pytest.raises(ConfigError, match="pitch_sampling"):
        params_from_dict({"pianogan": {"model": {"train_notes": "softmax"}}})


def test_order_summary_counts_transitions_and_intervals_and_changes_under_a_shuffle():
    from ganaudio.models.pianogan import MAX_INTERVAL, order_summary

    enc = NoteEncoding(pitch_one_hot=True)
    pitches = torch.tensor([60, 64, 67, 60, 72])  # +4 +3 -7 +12
    x = torch.cat([torch.nn.functional.one_hot(pitches, 128).T.float(), torch.zeros(3, 5)])[None]  # (1, 131, 5)
    out = order_summary(x, enc)[0]
    trans, hist = out[:144].view(12, 12), out[144:]
    assert trans[0, 4] == trans[4, 7] == trans[7, 0] == trans[0, 0] == 0.25 and trans.sum() == 1
    assert {k - MAX_INTERVAL: float(v) for k, v in enumerate(hist) if v} == {4: 0.25, 3: 0.25, -7: 0.25, 12: 0.25}
    shuffled = order_summary(x[..., [0, 3, 1, 4, 2]], enc)[0]
    assert not torch.equal(shuffled, out)
    c = PianoCritic(tiny(pitch_head="categorical", critic_order=True))
    assert c(torch.rand(3, 131, L)).shape == (3,)


@pytest.mark.parametrize("gain", [1.0, 3.0])
def test_head_norm_makes_the_notes_of_a_window_differ_from_the_start(gain):
    def spread(g):
        logits = g.logits(g.sample_latent(4, generator=torch.Generator().manual_seed(0)))["pitch"].detach()
        per_position = logits - logits.mean(2, keepdim=True)  # (B, 128, L): the window-level part removed
        return float(per_position.std(2).mean())

    torch.manual_seed(0)
    plain = PianoGenerator(PianoGANModelConfig(pitch_head="categorical", d=4, seq_len=64))
    torch.manual_seed(0)
    normed = PianoGenerator(PianoGANModelConfig(pitch_head="categorical", d=4, seq_len=64, head_norm_gain=gain))
    assert spread(plain) < 0.05  # a fresh stack of transposed convs barely varies along the window
    assert spread(normed) > 0.2 * gain


def test_recurrent_generator_draws_each_note_given_the_ones_before():
    from ganaudio.models.piano_rnn import PianoRNNGenerator

    torch.manual_seed(0)
    cfg = tiny(pitch_head="categorical", time_head="categorical", time_bins=16, generator="rnn",
               rnn_embed=8, rnn_hidden=8, rnn_layers=1)
    g = PianoRNNGenerator(cfg).train()
    z = g.sample_latent(3)
    x = g(z)
    assert x.shape == (3, NoteEncoding.of(cfg).channels, L)
    hot = x[:, :128]
    torch.testing.assert_close(hot.sum(1), torch.ones(3, L))
    # the critic's gradient on the last note reaches the first note's logits through the feedback
    first = []
    g.core.heads[0].register_forward_hook(lambda m, i, o: first.append(o) if not first else None)
    out = g(z)
    first[0].retain_grad()
    (out[:, :128, -1] * torch.randn(3, 128)).sum().backward()
    assert first[0].grad is not None and first[0].grad.abs().sum() > 0
    a = g.eval().features(z, "softmax", torch.Generator().manual_seed(1))
    b = g.features(z, "softmax", torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    assert a.shape == (3, 4, L)
