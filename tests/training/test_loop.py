"""The GAN loop: outputs, exact resume (PianoGAN and WaveGAN, fp32 and bf16), divergence stop,
conditional training, the sampler."""

import dataclasses

import pandas as pd
import pytest
import torch
from torch.utils.data import Dataset

from ganaudio.models.registry import build_models, config_dict, load_generator
from ganaudio.training.loop import SeededBatches, TrainingDiverged, train_gan
from ganaudio.training.state import load_checkpoint
from ganaudio.tracking import Tracker

from .conftest import (PIANO, RUNTIME, SPEC, WAVE, WAVE_SHAPE, LabelledSpecs, piano_data, piano_models, tiny_train,
                       wave_data, wave_models)

ADV = ["adv/critic_loss", "adv/wasserstein", "adv/gp", "adv/gen_loss", "other/grad_norm_d", "other/grad_norm_g"]


def run(tmp_path, cfg, model_seed=0, dataset=None, **kw):
    g, c = piano_models(cfg, model_seed)
    out = train_gan("pianogan", g, c, dataset or piano_data(), cfg, tmp_path, runtime=RUNTIME,
                    model_config=config_dict(PIANO), data_shape=(4, 16), **kw)
    return out, g, c


def test_writes_checkpoints_metrics_and_plot(tmp_path):
    cfg = tiny_train()
    logged = []

    class Rec(Tracker):
        def log_metrics(self, metrics, step=None):
            logged.append((step, metrics))

        def log_artifact(self, path, artifact_path=None):
            logged.append(("artifact", path))

    out, g, _ = run(tmp_path, cfg, tracker=Rec())
    assert out["steps"] == 4 and out["resumed_from"] is None and out["steps_per_s"] > 0
    assert load_checkpoint(tmp_path / "checkpoints/initial.pt")["step"] == 0
    latest = load_checkpoint(tmp_path / "checkpoints/latest.pt")
    assert latest["step"] == 4 and latest["batches"] == 4 * cfg.critic_steps
    df = pd.read_csv(tmp_path / "metrics.csv")
    assert df["step"].tolist() == [1, 2, 3, 4]
    assert set(ADV + ["other/steps_per_s", "other/lr_g", "other/lr_d"]) <= set(df.columns)
    assert (df["adv/gp"] > 0).all()  # wgan-gp by default
    assert [s for s, _ in logged[:4]] == [1, 2, 3, 4] and "adv/wasserstein" in logged[0][1]
    png = tmp_path / "loss_curve.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and ("artifact", png) in logged
    # The untrained and trained generators differ, and initial.pt holds the untrained one.
    assert not torch.equal(load_checkpoint(tmp_path / "checkpoints/initial.pt")["generator"]["dense.weight"],
                           g.state_dict()["dense.weight"])


def test_log_every_averages_over_the_interval(tmp_path):
    run(tmp_path / "a", tiny_train(steps=4, log_every=1))
    run(tmp_path / "b", tiny_train(steps=4, log_every=2))
    a, b = pd.read_csv(tmp_path / "a/metrics.csv"), pd.read_csv(tmp_path / "b/metrics.csv")
    assert b["step"].tolist() == [2, 4]
    expected = a["adv/gen_loss"].to_numpy().reshape(2, 2).mean(1)
    assert b["adv/gen_loss"].to_numpy() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("loss,sn", [("wgan-gp", False), ("hinge", True)])
def test_resume_gives_the_same_losses_as_an_uninterrupted_run(tmp_path, loss, sn):
    kw = dict(loss=loss, spectral_norm=sn, checkpoint_every=2)
    run(tmp_path / "straight", tiny_train(steps=6, **kw))
    first, _, _ = run(tmp_path / "split", tiny_train(steps=3, **kw))
    # Fresh models with another init: everything must come from the checkpoint.
    out, g, _ = run(tmp_path / "split", tiny_train(steps=6, **kw), model_seed=99)
    assert out["resumed_from"] == 3 and out["steps_run"] == 3
    # Training time adds up over the resumed runs; a run with nothing left to do keeps it.
    assert 0 < first["train_seconds"] < out["train_seconds"] <= first["train_seconds"] + out["seconds"]
    again, _, _ = run(tmp_path / "split", tiny_train(steps=6, **kw))
    assert again["steps_run"] == 0 and again["train_seconds"] == out["train_seconds"]
    a = pd.read_csv(tmp_path / "straight/metrics.csv")
    b = pd.read_csv(tmp_path / "split/metrics.csv")
    assert b["step"].tolist() == [1, 2, 3, 4, 5, 6]  # no duplicated rows
    pd.testing.assert_frame_equal(a[["step"] + ADV], b[["step"] + ADV], check_exact=True)
    sa = load_checkpoint(tmp_path / "straight/checkpoints/latest.pt")["generator"]
    for k, v in g.state_dict().items():
        assert torch.equal(sa[k], v), k


def run_wave(tmp_path, cfg, precision="fp32", model_seed=0):
    g, c = wave_models(cfg, model_seed)
    out = train_gan("wavegan", g, c, wave_data(), cfg, tmp_path, model_config=config_dict(WAVE),
                    data_shape=WAVE_SHAPE, runtime=dataclasses.replace(RUNTIME, precision=precision))
    return out, g


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("loss,sn", [("wgan-gp", False), ("hinge", True)])
def test_wavegan_resumes_exactly_in_each_precision(tmp_path, precision, loss, sn):
    """Phase shuffle draws its shifts from the global RNG, which the checkpoint carries; under bf16
    autocast the critic (phase shuffle included) and the penalty's double backward run too."""
    kw = dict(loss=loss, spectral_norm=sn, checkpoint_every=2, ema_decay=0.9)
    straight, _ = run_wave(tmp_path / "straight", tiny_train(steps=5, **kw), precision)
    assert straight["precision"] == precision
    run_wave(tmp_path / "split", tiny_train(steps=3, **kw), precision)
    out, g = run_wave(tmp_path / "split", tiny_train(steps=5, **kw), precision, model_seed=99)
    assert out["resumed_from"] == 3 and out["steps_run"] == 2
    a = pd.read_csv(tmp_path / "straight/metrics.csv")
    b = pd.read_csv(tmp_path / "split/metrics.csv")
    assert torch.isfinite(torch.tensor(a[ADV].to_numpy())).all()
    assert (a["adv/gp"] > 0).all() == (loss == "wgan-gp")  # the double backward ran
    pd.testing.assert_frame_equal(a[["step"] + ADV], b[["step"] + ADV], check_exact=True)
    sa = load_checkpoint(tmp_path / "straight/checkpoints/latest.pt")
    sb = load_checkpoint(tmp_path / "split/checkpoints/latest.pt")
    for part in ("generator", "critic", "generator_ema"):
        for k, v in sa[part].items():
            assert v.dtype == torch.float32 and torch.equal(v, sb[part][k]), (part, k)  # fp32 master weights


def test_precision_changes_the_numbers_and_is_never_resumed_across(tmp_path):
    fp32, _ = run_wave(tmp_path / "fp32", tiny_train(steps=2), "fp32")
    bf16, _ = run_wave(tmp_path / "bf16", tiny_train(steps=2), "bf16")
    assert fp32["final"]["adv/critic_loss"] != bf16["final"]["adv/critic_loss"]  # autocast took effect
    out, _ = run_wave(tmp_path / "fp32", tiny_train(steps=3), "bf16")
    assert out["start"]["mode"] == "restarted" and "precision fp32 != bf16" in out["start"]["reason"]
    assert out["steps_run"] == 3


@pytest.mark.parametrize("recipe,machine,used", [(None, "bf16", "bf16"), ("bf16", "fp32", "bf16"), ("fp32", "bf16", "fp32")])
def test_a_recipe_precision_overrides_the_machine_setting(tmp_path, recipe, machine, used):
    """`train.precision` (what a preset was screened in) wins over `runtime.precision`; null follows it."""
    out, _ = run_wave(tmp_path, tiny_train(steps=1, precision=recipe), machine)
    assert out["precision"] == used
    assert load_checkpoint(tmp_path / "checkpoints/latest.pt")["identity"]["precision"] == used


def test_resume_drops_metric_rows_past_the_checkpoint(tmp_path):
    run(tmp_path, tiny_train(steps=3, checkpoint_every=2))
    ckpt = load_checkpoint(tmp_path / "checkpoints/latest.pt")
    assert ckpt["step"] == 3
    # Pretend the run died after step 3's checkpoint but wrote rows 4-5.
    df = pd.read_csv(tmp_path / "metrics.csv")
    extra = df.tail(2).assign(step=[4, 5])
    pd.concat([df, extra]).to_csv(tmp_path / "metrics.csv", index=False)
    run(tmp_path, tiny_train(steps=4, checkpoint_every=2))
    assert pd.read_csv(tmp_path / "metrics.csv")["step"].tolist() == [1, 2, 3, 4]


def test_a_changed_recipe_starts_fresh(tmp_path):
    run(tmp_path, tiny_train(steps=2))
    out, _, _ = run(tmp_path, tiny_train(steps=3, lr_d=5e-4))
    assert out["resumed_from"] is None and out["steps_run"] == 3
    assert load_checkpoint(tmp_path / "checkpoints/latest.pt")["train_config"]["lr_d"] == 5e-4


class NaNAfter(Dataset):
    """Finite items for the first `n_ok` reads, NaN after."""

    def __init__(self, base, n_ok):
        self.base, self.n_ok, self.reads = base, n_ok, 0

    def __len__(self):
        return len(self.base)

    def fingerprint(self):  # the loop's identity must not count as training reads
        return "nan-after"

    def __getitem__(self, i):
        self.reads += 1
        x = self.base[i][0]
        return x if self.reads <= self.n_ok else torch.full_like(x, float("nan"))


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = tiny_train(steps=6, checkpoint_every=2, batch_size=4, critic_steps=1)
    data = NaNAfter(piano_data(), n_ok=4 * 3)  # 4 items per batch: steps 1-3 clean, step 4 NaN
    with pytest.raises(TrainingDiverged) as err:
        run(tmp_path, cfg, dataset=data)
    msg = str(err.value)
    assert "step 4" in msg and "adv/critic_loss" in msg and "lower train.lr" in msg
    assert "latest.pt (step 2)" in msg and "\n" not in msg
    ckpt = load_checkpoint(tmp_path / "checkpoints/latest.pt")
    assert ckpt["step"] == 2
    assert all(torch.isfinite(v).all() for v in ckpt["generator"].values())
    assert pd.read_csv(tmp_path / "metrics.csv")["step"].tolist() == [1, 2, 3]


def test_load_generator_reproduces_the_trained_generator(tmp_path):
    _, g, _ = run(tmp_path, tiny_train(steps=2))
    z = g.sample_latent(5)
    with torch.no_grad():
        expected = g.eval()(z)
    for name in ["generator.pt", "checkpoints/latest.pt"]:
        loaded, meta = load_generator(tmp_path / name)
        assert meta["kind"] == "pianogan" and meta["step"] == 2 and meta["data_shape"] == (4, 16)
        with torch.no_grad():
            torch.testing.assert_close(loaded(z), expected, rtol=0, atol=0)


def test_conditional_spectogan_trains_with_labels(tmp_path):
    cfg = tiny_train(steps=2, loss="hinge", spectral_norm=True, critic_steps=1)
    torch.manual_seed(0)
    g, c = build_models("spectogan", SPEC, cfg, (1, 8, 8))
    before = c.project.parametrizations.weight.original.detach().clone()
    out = train_gan("spectogan", g, c, LabelledSpecs(), cfg, tmp_path, runtime=RUNTIME,
                    model_config=config_dict(SPEC), data_shape=(1, 8, 8), conditional=True)
    assert out["steps"] == 2
    assert not torch.equal(before, c.project.parametrizations.weight.original)  # projection trained
    loaded, _ = load_generator(tmp_path / "generator.pt")
    assert loaded(loaded.sample_latent(3), torch.tensor([0, 1, 2])).shape == (3, 1, 8, 8)


def test_conditional_training_needs_labels(tmp_path):
    cfg = tiny_train(steps=1)
    torch.manual_seed(0)
    g, c = build_models("spectogan", SPEC, cfg, (1, 8, 8))
    unlabelled = [LabelledSpecs()[i][0] for i in range(5)]
    with pytest.raises(ValueError, match="with_labels=True"):
        train_gan("spectogan", g, c, unlabelled, cfg, tmp_path, runtime=RUNTIME,
                  model_config=config_dict(SPEC), data_shape=(1, 8, 8), conditional=True)


def test_data_shape_mismatch_is_reported(tmp_path):
    cfg = tiny_train(steps=1)
    g, c = piano_models(cfg)
    with pytest.raises(ValueError, match=r"shape \(4, 16\) but data_shape is \(4, 32\)"):
        train_gan("pianogan", g, c, piano_data(), cfg, tmp_path, runtime=RUNTIME,
                  model_config={}, data_shape=(4, 32))


def test_seeded_batches_are_a_pure_function_of_position_and_shard_by_rank():
    n, b = 10, 4
    s = SeededBatches(n, b, seed=5)
    stream = iter(s)
    first = [next(stream) for _ in range(6)]
    assert [SeededBatches(n, b, seed=5, start=3).batch(i) for i in range(3, 6)] == first[3:]
    # Every item appears once per pass of the stream (epochs are permutations).
    flat = sum(first, [])[: 2 * n]
    assert sorted(flat[:n]) == list(range(n)) and sorted(flat[n:]) == list(range(n))
    assert SeededBatches(n, b, seed=6).batch(0) != first[0] or SeededBatches(n, b, seed=6).batch(1) != first[1]
    r0, r1 = SeededBatches(n, 2, 5, rank=0, world_size=2), SeededBatches(n, 2, 5, rank=1, world_size=2)
    assert r0.batch(0) + r1.batch(0) + r0.batch(1) + r1.batch(1) == sum(first[:2], [])


def test_a_checkpoint_without_its_training_time_reports_it_unknown_not_zero(tmp_path):
    run(tmp_path / "old", tiny_train(steps=2, checkpoint_every=2))
    latest = tmp_path / "old/checkpoints/latest.pt"
    blob = torch.load(latest, weights_only=False)
    del blob["seconds"]  # as written before checkpoints carried it
    torch.save(blob, latest)
    out, _, _ = run(tmp_path / "old", tiny_train(steps=4, checkpoint_every=2))
    assert out["resumed_from"] == 2 and out["steps_run"] == 2
    assert out["train_seconds"] is None and out["seconds"] > 0
