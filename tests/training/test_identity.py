"""Run identity: seeded builds, resume only the same run, restarts that lose nothing, finite
checkpoints, one trainer per folder, EMA, warm starts and the valid-split monitor."""

import dataclasses
import os

import pytest
import torch
from torch.utils.data import TensorDataset

from ganaudio.config import PianoGANConfig, WaveGANConfig
from ganaudio.models.registry import load_generator
from ganaudio.tasks.common import fit
from ganaudio.training import loop as loop_module
from ganaudio.training.identity import fingerprint, identity_difference, run_identity
from ganaudio.training.loop import Monitor, TrainingDiverged, TrainingInterrupted, train_gan
from ganaudio.training.run_guard import RunBusy, RunLock, clean_stale_temp_files
from ganaudio.training.state import load_checkpoint
from ganaudio.training.warm_start import from_checkpoint, resolve_warm_start

from .conftest import PIANO, RUNTIME, WAVE, WAVE_SHAPE, piano_data, piano_models, tiny_train
from ganaudio.models.registry import config_dict


class Windows(TensorDataset):
    """A TensorDataset with the `data_shape` the tasks read."""

    data_shape = (4, 16)


def piano_cfg(**train) -> PianoGANConfig:
    cfg = PianoGANConfig(model=PIANO)
    cfg.train = tiny_train(**train)
    return cfg


def windows(seed=1, n=10):
    g = torch.Generator().manual_seed(seed)
    return Windows(torch.randn(n, 4, 16, generator=g))


def run(tmp_path, cfg, dataset=None, **kw):
    g, c = piano_models(cfg)
    out = train_gan("pianogan", g, c, dataset or piano_data(), cfg, tmp_path, runtime=RUNTIME,
                    model_config=config_dict(PIANO), data_shape=(4, 16), **kw)
    return out, g


def tensors(path, key="generator"):
    return load_checkpoint(path)[key]


def assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_equal_params_give_bit_equal_initial_and_final_weights(tmp_path):
    cfg = piano_cfg(steps=3)
    for name in ("a", "b"):
        torch.manual_seed(1234 if name == "a" else 99)  # whatever the global RNG held before
        fit("pianogan", cfg, RUNTIME, windows(), tmp_path / name)
    for ckpt in ("initial.pt", "latest.pt"):
        for key in ("generator", "critic"):
            assert_same(tensors(tmp_path / "a/checkpoints" / ckpt, key), tensors(tmp_path / "b/checkpoints" / ckpt, key))
    other = piano_cfg(steps=3, seed=4)
    fit("pianogan", other, RUNTIME, windows(), tmp_path / "c")
    assert not torch.equal(tensors(tmp_path / "a/checkpoints/initial.pt")["dense.weight"],
                           tensors(tmp_path / "c/checkpoints/initial.pt")["dense.weight"])


class Clips(TensorDataset):
    data_shape = WAVE_SHAPE


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_equal_params_give_bit_equal_wavegan_weights_in_each_precision(tmp_path, precision):
    """WaveGAN's phase shuffle draws from the global RNG: the loop seeds it, whatever it held before."""
    cfg = WaveGANConfig(model=WAVE, train=tiny_train(steps=3, loss="wgan-gp", critic_steps=2))
    runtime = dataclasses.replace(RUNTIME, precision=precision)
    clips = Clips(torch.rand(10, *WAVE_SHAPE, generator=torch.Generator().manual_seed(1)) * 2 - 1)
    for name in ("a", "b"):
        torch.manual_seed(1234 if name == "a" else 99)
        fit("wavegan", cfg, runtime, clips, tmp_path / name)
    for ckpt in ("initial.pt", "latest.pt"):
        for key in ("generator", "critic"):
            assert_same(tensors(tmp_path / "a/checkpoints" / ckpt, key), tensors(tmp_path / "b/checkpoints" / ckpt, key))
    initial, latest = (tensors(tmp_path / "a/checkpoints" / name, "critic") for name in ("initial.pt", "latest.pt"))
    assert any(not torch.equal(initial[k], latest[k]) for k in initial)  # it trained


def test_new_data_retrains_every_step_and_keeps_the_old_run_until_done(tmp_path):
    cfg = piano_cfg(steps=4)
    first = fit("pianogan", cfg, RUNTIME, windows(seed=1), tmp_path)
    assert first["start"]["mode"] == "fresh" and first["steps_run"] == 4
    again = fit("pianogan", cfg, RUNTIME, windows(seed=1), tmp_path)
    assert again["start"]["mode"] == "finished" and again["steps_run"] == 0
    old = tensors(tmp_path / "checkpoints/latest.pt")
    new = fit("pianogan", cfg, RUNTIME, windows(seed=2), tmp_path)
    assert new["start"]["mode"] == "restarted" and "training data changed" in new["start"]["reason"]
    assert new["steps_run"] == 4 and new["resumed_from"] is None
    assert not (tmp_path / "previous").exists()  # removed once the new run finished
    assert not torch.equal(old["dense.weight"], tensors(tmp_path / "checkpoints/latest.pt")["dense.weight"])


def test_an_unfinished_restart_keeps_the_superseded_run(tmp_path, monkeypatch):
    cfg = piano_cfg(steps=4, checkpoint_every=1)
    fit("pianogan", cfg, RUNTIME, windows(seed=1), tmp_path)
    old = tensors(tmp_path / "checkpoints/latest.pt")

    class Dies(Exception):
        pass

    real_update = loop_module.update_ema

    def interrupt_at_first_step(*a, **k):
        raise Dies

    cfg_ema = piano_cfg(steps=4, checkpoint_every=1, ema_decay=0.9)  # another recipe: a restart
    monkeypatch.setattr(loop_module, "update_ema", interrupt_at_first_step)
    with pytest.raises(Dies):
        fit("pianogan", cfg_ema, RUNTIME, windows(seed=1), tmp_path)
    assert_same(tensors(tmp_path / "previous/checkpoints/latest.pt"), old)
    monkeypatch.setattr(loop_module, "update_ema", real_update)
    out = fit("pianogan", cfg_ema, RUNTIME, windows(seed=1), tmp_path)
    assert out["steps_run"] == 4 and not (tmp_path / "previous").exists()


def test_identity_names_what_differs():
    base = run_identity({"lr_g": 1e-4, "steps": 10}, {"d": 4}, (4, 16), "data1", "code1")
    assert identity_difference(base, base) is None
    longer = run_identity({"lr_g": 1e-4, "steps": 20}, {"d": 4}, (4, 16), "data1", "code1")
    assert identity_difference(longer, base) is None  # more steps continue the same run
    assert "code changed" in identity_difference(run_identity({"lr_g": 1e-4}, {"d": 4}, (4, 16), "data1", "code2"), base)
    assert "lr_g" in identity_difference(run_identity({"lr_g": 2e-4}, {"d": 4}, (4, 16), "data1", "code1"), base)
    assert "older ganaudio" in identity_difference(base, None)
    bf16 = run_identity({"lr_g": 1e-4, "steps": 10}, {"d": 4}, (4, 16), "data1", "code1", precision="bf16")
    assert identity_difference(bf16, base) == "precision fp32 != bf16"
    older = {k: v for k, v in base.items() if k != "precision"}  # before runtime.precision: fp32
    assert identity_difference(base, older) is None and identity_difference(bf16, older) is not None


def test_fingerprint_is_by_content():
    a = torch.arange(6.0)
    assert fingerprint(a) == fingerprint(a.clone()) != fingerprint(a + 1)
    assert fingerprint(a) != fingerprint(a.double())  # dtype is part of the content
    assert fingerprint(a.numpy()) == fingerprint(a.numpy().copy())


def test_a_nan_stop_keeps_a_checkpoint_whose_every_tensor_is_finite(tmp_path):
    cfg = tiny_train(steps=4, checkpoint_every=1, lr_g=float("inf"))
    with pytest.raises(TrainingDiverged) as err:
        run(tmp_path, cfg)
    assert "\n" not in str(err.value)
    ckpt = load_checkpoint(tmp_path / "checkpoints/latest.pt") if (tmp_path / "checkpoints/latest.pt").exists() \
        else load_checkpoint(tmp_path / "checkpoints/initial.pt")
    for key in ("generator", "critic"):
        assert all(torch.isfinite(v).all() for v in ckpt[key].values() if v.is_floating_point()), key


def test_stale_temp_files_are_removed_on_start(tmp_path):
    (tmp_path / "checkpoints").mkdir(parents=True)
    stale = tmp_path / "checkpoints" / ".latest.abc123.tmp.pt"
    stale.write_bytes(b"")
    keep = tmp_path / "checkpoints" / "latest.pt.bak"
    keep.write_bytes(b"x")
    assert clean_stale_temp_files(tmp_path) == [stale]
    assert not stale.exists() and keep.exists()
    stale.write_bytes(b"")
    run(tmp_path, tiny_train(steps=1))
    assert not stale.exists()


def test_one_trainer_per_folder(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunBusy, match=f"PID {os.getpid()}"):
            with RunLock(tmp_path, wait_s=0.2, poll_s=0.05):
                pass
    with RunLock(tmp_path, wait_s=0):  # released on exit
        pass


def test_an_orphaned_trainer_saves_and_stops(tmp_path, monkeypatch):
    class OrphanAfterTwoSteps:
        parent = 4242

        def __init__(self):
            self.calls = 0

        def orphaned(self):
            self.calls += 1
            return self.calls >= 2

    monkeypatch.setattr(loop_module, "ParentWatch", OrphanAfterTwoSteps)
    with pytest.raises(TrainingInterrupted, match="PID 4242.*step 2"):
        run(tmp_path, tiny_train(steps=6, checkpoint_every=5))
    assert load_checkpoint(tmp_path / "checkpoints/latest.pt")["step"] == 2
    monkeypatch.undo()
    out, _ = run(tmp_path, tiny_train(steps=6, checkpoint_every=5))
    assert out["resumed_from"] == 2 and out["steps_run"] == 4


def test_ema_is_what_users_sample_and_resumes_exactly(tmp_path):
    cfg = tiny_train(steps=4, ema_decay=0.9, checkpoint_every=2)
    _, g = run(tmp_path / "straight", cfg)
    ckpt = load_checkpoint(tmp_path / "straight/checkpoints/latest.pt")
    assert not torch.equal(ckpt["generator_ema"]["dense.weight"], ckpt["generator"]["dense.weight"])
    assert_same(tensors(tmp_path / "straight/generator.pt"), ckpt["generator_ema"])
    loaded, meta = load_generator(tmp_path / "straight/checkpoints/latest.pt")
    assert meta["ema"] and torch.equal(loaded.state_dict()["dense.weight"], ckpt["generator_ema"]["dense.weight"])
    run(tmp_path / "split", tiny_train(steps=2, ema_decay=0.9, checkpoint_every=2))
    run(tmp_path / "split", cfg)
    for key in ("generator", "generator_ema"):
        assert_same(tensors(tmp_path / "split/checkpoints/latest.pt", key), ckpt[key])


def test_warm_start_from_a_checkpoint(tmp_path):
    cfg = piano_cfg(steps=2)
    fit("pianogan", cfg, RUNTIME, windows(), tmp_path / "parent")
    parent = load_checkpoint(tmp_path / "parent/checkpoints/latest.pt")
    warm_cfg = piano_cfg(steps=2, init_from=str(tmp_path / "parent/checkpoints/latest.pt"))
    out = fit("pianogan", warm_cfg, RUNTIME, windows(seed=3), tmp_path / "child")
    assert out["init_from"]["from"].endswith("latest.pt") and out["steps_run"] == 2
    # initial.pt stays the untrained floor; the training started from the parent's weights
    fresh = load_checkpoint(tmp_path / "parent/checkpoints/initial.pt")
    assert_same(tensors(tmp_path / "child/checkpoints/initial.pt"), fresh["generator"])
    ws = from_checkpoint(tmp_path / "parent/checkpoints/latest.pt", "pianogan", {"from": "x"})
    assert_same(ws.generator, parent["generator"]) and ws.critic is not None
    # a warm start is another run: the plain recipe does not resume it
    again = fit("pianogan", cfg, RUNTIME, windows(seed=3), tmp_path / "child")
    assert again["start"]["mode"] == "restarted" and "warm start" in again["start"]["reason"]


def test_warm_start_refuses_another_kind_and_missing_files(tmp_path):
    run(tmp_path, tiny_train(steps=1))
    with pytest.raises(Exception, match="not 'spectogan'"):
        resolve_warm_start(str(tmp_path / "checkpoints/latest.pt"), "spectogan")
    with pytest.raises(Exception, match="does not exist"):
        resolve_warm_start(str(tmp_path / "nope.pt"), "pianogan")
    assert resolve_warm_start(None, "pianogan") is None


def test_monitor_keeps_best_stops_on_patience_and_leaves_training_untouched(tmp_path):
    values = iter([3.0, 1.0, 2.0, 2.5, 9.0, 9.0])

    def score(generator, step):
        torch.rand(5)  # a monitor that draws random numbers must not shift training's streams
        return {"fid": next(values)}

    cfg = tiny_train(steps=6, monitor_every=1, monitor_patience=2, checkpoint_every=10)
    out, _ = run(tmp_path / "m", cfg, monitor=Monitor(score, "fid"))
    assert out["stopped_early"] and out["steps"] == 4
    assert out["monitor"]["best"] == 1.0 and out["monitor"]["best_step"] == 2
    assert load_generator(tmp_path / "m/best.pt")[1]["step"] == 2
    again, _ = run(tmp_path / "m", cfg, monitor=Monitor(score, "fid"))
    assert again["steps_run"] == 0  # stopped early is finished
    plain, _ = run(tmp_path / "p", tiny_train(steps=4, checkpoint_every=10))
    assert_same(tensors(tmp_path / "m/checkpoints/latest.pt"), tensors(tmp_path / "p/checkpoints/latest.pt"))


def test_warm_start_from_the_registry_champion(tmp_path, monkeypatch):
    from ganaudio.tracking import import_mlflow

    run(tmp_path / "parent", tiny_train(steps=2))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)  # artifacts land beside the store, not in the repo
    mlflow = import_mlflow()
    assert resolve_warm_start("champion", "pianogan") is None  # no champion yet: from scratch
    client = mlflow.MlflowClient()
    exp = client.create_experiment("pianogan", artifact_location=(tmp_path / "artifacts").as_uri())
    train_run = client.create_run(exp)
    client.log_artifact(train_run.info.run_id, str(tmp_path / "parent/checkpoints/latest.pt"), "checkpoint")
    client.create_registered_model("ganaudio-pianogan")
    version = client.create_model_version("ganaudio-pianogan", f"runs:/{train_run.info.run_id}/checkpoint",
                                          run_id=train_run.info.run_id)
    client.set_registered_model_alias("ganaudio-pianogan", "champion", version.version)
    warm = resolve_warm_start("champion", "pianogan")
    assert warm.describe["from"] == "champion" and warm.describe["version"] == str(version.version)
    assert_same(warm.generator, tensors(tmp_path / "parent/checkpoints/latest.pt"))
