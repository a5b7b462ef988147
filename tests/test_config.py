import textwrap

import pytest

from ganaudio.config import ConfigError, Params, flatten, load_params, params_from_dict, presets, to_dict


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
    assert params.spectogan.model.d == presets("spectogan")["paper"]["model"]["d"]
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


# ---------------------------------------------------------------- validation at load time

@pytest.mark.parametrize("pianogan,spectogan,mels", [
    (g, s, m) for g in presets("pianogan") for s in presets("spectogan") for m in presets("mels")])
def test_every_preset_combination_is_valid(pianogan, spectogan, mels):
    params_from_dict({"pianogan": {"preset": pianogan}, "spectogan": {"preset": spectogan},
                      "mels": {"preset": mels}})


@pytest.mark.parametrize("override,key,allowed", [
    ({"notes": {"max_failed_share": -1}}, "notes.max_failed_share", ">= 0 and <= 1"),
    ({"notes": {"max_failed_share": 1.5}}, "notes.max_failed_share", "<= 1"),
    ({"mels": {"max_failed_share": -0.1}}, "mels.max_failed_share", ">= 0"),
    ({"notes": {"stride": 0}}, "notes.stride", ">= 1"),
    ({"notes": {"seq_len": 1, }}, "notes.seq_len", ">= 2"),
    ({"pianogan": {"train": {"batch_size": 0}}}, "pianogan.train.batch_size", ">= 1"),
    ({"spectogan": {"train": {"steps": -5}}}, "spectogan.train.steps", ">= 1"),
    ({"spectogan": {"train": {"critic_steps": 0}}}, "spectogan.train.critic_steps", ">= 1"),
    ({"pianogan": {"train": {"lr_g": 0}}}, "pianogan.train.lr_g", "> 0"),
    ({"pianogan": {"train": {"lr_d": float("inf")}}}, "pianogan.train.lr_d", "finite"),
    ({"spectogan": {"train": {"lr_g": float("nan")}}}, "spectogan.train.lr_g", "> 0"),
    ({"spectogan": {"train": {"betas": [0.5, 1.0]}}}, "spectogan.train.betas[1]", "< 1"),
    ({"spectogan": {"train": {"gp_weight": -1}}}, "spectogan.train.gp_weight", ">= 0"),
    ({"pianogan": {"render": {"n_samples": 0}}}, "pianogan.render.n_samples", ">= 1"),
    ({"spectogan": {"eval": {"n_samples": 1}}}, "spectogan.eval.n_samples", ">= 2"),
    ({"spectogan": {"eval": {"n_samples": 4, "is_splits": 5}}}, "spectogan.eval.is_splits", "<= n_samples"),
    ({"spectogan": {"inversion": {"momentum": 1.2}}}, "spectogan.inversion.momentum", "< 1"),
    ({"classifier": {"lr": -1e-3}}, "classifier.lr", "> 0"),
    ({"classifier": {"epochs": 0}}, "classifier.epochs", ">= 1"),
    ({"data": {"seed": -1}}, "data.seed", ">= 0"),
    ({"fetch_sc09": {"embedded": {"clips": 10}}}, "fetch_sc09.embedded.clips", ">= 30"),
    ({"fetch_maestro": {"embedded": {"pieces": 0}}}, "fetch_maestro.embedded.pieces", ">= 1"),
    ({"fetch_maestro": {"sha256": "abc"}}, "fetch_maestro.sha256", "64 hex digits"),
    ({"mels": {"fmax": 9000}}, "mels.fmax", "sample_rate / 2"),
    ({"mels": {"fmin": 8000}}, "mels.fmin", "< fmax"),
    ({"mels": {"hop_length": 1024}}, "mels.hop_length", "< the STFT size 1024"),
    ({"mels": {"representation": "linear", "hop_length": 128}}, "mels.hop_length", "< the STFT size 128"),
    ({"pianogan": {"model": {"kernel_size": 3}}}, "pianogan.model.kernel_size", ">= stride"),
    ({"pianogan": {"model": {"latent_dim": 8}}}, "pianogan.model.latent_dim", ">= 12 with key_latent"),
    ({"notes": {"seq_len": 128}}, "pianogan.model.seq_len", "equal to notes.seq_len"),
    ({"runtime": {"device": "gpu"}}, "runtime.device", "cuda:N"),
    ({"runtime": {"workers": -1}}, "runtime.workers", ">= 0"),
    ({"retrain": {"cron": "every monday"}}, "retrain.cron", "5-field cron"),
    ({"retrain": {"gans": []}}, "retrain.gans", "one or more"),
    ({"retrain": {"timezone": "Mars/Olympus"}}, "retrain.timezone", "IANA time zone"),
])
def test_bad_values_are_one_line_errors_naming_key_value_and_range(tmp_path, override, key, allowed):
    import yaml

    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(override))
    with pytest.raises(ConfigError) as e:
        load_params(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    assert f"'{key}'" in msg and allowed in msg, msg


def test_max_failed_share_minus_one_is_a_config_error_not_an_index_error(tmp_path):
    with pytest.raises(ConfigError, match=r"'notes.max_failed_share' is -1.0; allowed: a finite number >= 0 and <= 1"):
        load_params(write(tmp_path, "notes: {max_failed_share: -1}\n"))


def test_yaml_syntax_error_is_one_line_naming_file_and_line(tmp_path):
    path = write(tmp_path, """
        notes:
          stride: 64
         seq_len: [256
    """)
    with pytest.raises(ConfigError) as e:
        load_params(path)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{path}:")
    assert "YAML syntax error" in msg
    line = int(msg[len(str(path)) + 1:].split(":")[0])
    assert path.read_text().splitlines()[line - 1].strip().startswith(("seq_len", "stride"))


def test_every_number_in_every_section_has_a_declared_range():
    """A new int or float field needs a Range (Count, Share, Positive, ...): every value is checked at load."""
    import dataclasses
    import types
    import typing

    from ganaudio.config import SECTIONS, Range, section_class

    def numbers_without_range(cls, where=""):
        for f in dataclasses.fields(cls):
            tp = typing.get_type_hints(cls, include_extras=True)[f.name]
            split = typing.get_origin(tp) in (typing.Union, types.UnionType, tuple, list)  # Optional[X], tuple[X, X]
            args = [a for a in typing.get_args(tp) if a is not type(None)] if split else [tp]
            for a in args:
                if dataclasses.is_dataclass(a):
                    yield from numbers_without_range(a, f"{where}{f.name}.")
                elif a in (int, float):
                    yield f"{where}{f.name}"
                elif typing.get_origin(a) is typing.Annotated:
                    assert any(isinstance(m, Range) for m in a.__metadata__), f"{where}{f.name}"

    assert [w for s in SECTIONS for w in numbers_without_range(section_class(s), f"{s}.")] == []


def test_checkpoint_model_configs_are_validated_too():
    from ganaudio.config import PianoGANModelConfig, build

    with pytest.raises(ConfigError, match=r"checkpoint: 'pianogan.model.d' is 0"):
        build(PianoGANModelConfig, {"d": 0}, "checkpoint", "pianogan.model")


def test_check_params_fails_on_a_bad_file_and_passes_a_workspace_without_one(tmp_path):
    from ganaudio.config import check_params

    assert check_params(tmp_path / "params.yaml") is None  # a bare DVC workspace: nothing to check
    assert isinstance(check_params("params.yaml"), Params)
    with pytest.raises(ConfigError, match="notes.strid"):
        check_params(write(tmp_path, "notes: {strid: 3}\n"))


def test_gpu_preset_is_the_cpu_recipe_wider_on_the_same_mels():
    cpu = params_from_dict({}).spectogan
    gpu = params_from_dict({"spectogan": {"preset": "gpu"}}).spectogan
    assert gpu.model.d == 64 and gpu.train.batch_size == 4 * cpu.train.batch_size
    assert gpu.model.kernel_size == cpu.model.kernel_size
    same = ("loss", "spectral_norm", "critic_steps", "lr_g", "lr_d", "betas", "r1_weight", "augment", "ema_decay")
    assert {k: getattr(gpu.train, k) for k in same} == {k: getattr(cpu.train, k) for k in same}
    assert gpu.model.conditional == cpu.model.conditional


def test_a_stage_loads_only_the_sections_it_reads():
    """A stage imports, and so depends on, only its sections' config and preset modules."""
    import subprocess
    import sys

    code = ("import sys; from ganaudio.config import load_params; "
            "p = load_params('params.yaml', sections=['spectogan']); "
            "assert p.pianogan is None and p.notes is None and p.runtime is not None; "
            "print(sorted(m for m in sys.modules if m.startswith(('ganaudio.config.', 'ganaudio.presets.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == ["ganaudio.config.core", "ganaudio.config.spectogan", "ganaudio.config.train",
                         "ganaudio.presets.common", "ganaudio.presets.spectogan"]


def test_sections_not_loaded_still_reject_unknown_section_names(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'notse'"):
        load_params(write(tmp_path, "notse: {stride: 3}\n"), sections=["notes"])
