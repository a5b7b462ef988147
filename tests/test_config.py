import textwrap

import pytest

from ganaudio.config import ConfigError, PRESETS, Params, flatten, load_params, params_from_dict, to_dict


def write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_project_params_load_with_cpu_presets():
    params = load_params("params.yaml")
    assert isinstance(params, Params)
    assert params.pianogan.train.loss == "wgan-gp" and params.pianogan.train.critic_steps == 2
    assert params.pianogan.model.time_head == "categorical" and params.pianogan.model.key_latent
    assert params.spectogan.train.loss == "hinge" and params.spectogan.train.critic_steps == 1
    assert (params.mels.n_mels, params.mels.n_frames) == (64, 64)


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, """
        pianogan:
          train:
            lrr_g: 0.1
    """)
    with pytest.raises(ConfigError) as e:
        load_params(path)
    msg = str(e.value)
    assert str(path) in msg and "pianogan.train.lrr_g" in msg and "\n" not in msg


def test_wrong_type_is_reported(tmp_path):
    path = write(tmp_path, """
        notes:
          seq_len: "long"
    """)
    with pytest.raises(ConfigError, match="notes.seq_len.*integer"):
        load_params(path)


def test_bad_literal_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="data.source"):
        load_params(write(tmp_path, "data: {source: kaggle}\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")


def test_preset_then_explicit_overrides():
    params = params_from_dict({"spectogan": {"preset": "paper", "train": {"lr_g": "2e-4"}}})
    assert params.spectogan.model.d == PRESETS["spectogan"]["paper"]["model"]["d"]
    assert params.spectogan.train.loss == "wgan-gp"  # the paper recipe keeps WGAN-GP
    assert params.spectogan.train.lr_g == pytest.approx(2e-4)  # YAML's `2e-4` string accepted as a float
    assert params.spectogan.train.betas == (0.5, 0.9)


def test_unknown_preset_is_an_error():
    with pytest.raises(ConfigError, match="spectogan.preset"):
        params_from_dict({"spectogan": {"preset": "huge"}})


def test_flatten_round_trip_of_resolved_config():
    flat = flatten(to_dict(params_from_dict({})))
    assert flat["pianogan.train.betas"] == [0.5, 0.9]  # the WGAN-GP default, untouched by the cpu preset
    assert flat["spectogan.train.betas"] == [0.0, 0.9]  # the hinge recipe's
    assert flat["runtime.device"] == "auto"


def test_gpu_preset_is_the_cpu_recipe_wider_on_the_same_mels():
    cpu = params_from_dict({}).spectogan
    gpu = params_from_dict({"spectogan": {"preset": "gpu"}}).spectogan
    assert gpu.model.d == 64 and gpu.train.batch_size == 2 * cpu.train.batch_size
    same = ("loss", "spectral_norm", "critic_steps", "lr_g", "lr_d", "betas", "r1_weight", "augment", "ema_decay")
    assert {k: getattr(gpu.train, k) for k in same} == {k: getattr(cpu.train, k) for k in same}
    assert gpu.model.conditional == cpu.model.conditional
