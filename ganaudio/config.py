"""Typed configuration: params.yaml -> dataclasses, in this one place.

Every section of params.yaml maps to a dataclass below. Loading is loud: an unknown or
mistyped key is a one-line `ConfigError` naming the key and the file. Sections with a
`preset:` key start from a named preset (PRESETS) and apply the explicit keys on top, so
`dvc exp run -S spectogan.preset=paper` switches a whole recipe and
`-S spectogan.train.lr_g=2e-4` tweaks one value of it.

Machine settings (device, workers, compile, tracking) live in `RuntimeConfig`, which no
DVC stage lists under `params:`, so changing them reruns nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import yaml

from ganaudio.presets import PRESETS


class ConfigError(ValueError):
    """A params.yaml problem, phrased as one line that names the key and the file."""


# ---------------------------------------------------------------- data sources

MAESTRO_URL = "https://storage.googleapis.com/magentadata/datasets/maestro/v3.0.0/maestro-v3.0.0-midi.zip"
SPEECH_COMMANDS_URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"


@dataclass
class DataConfig:
    source: Literal["embedded", "official"] = "embedded"
    seed: int = 0


@dataclass
class EmbeddedMaestroConfig:
    pieces: int = 120
    seed: int = 0


@dataclass
class FetchMaestroConfig:
    url: str = MAESTRO_URL
    sha256: Optional[str] = None
    local_path: Optional[str] = None  # an already-downloaded zip; skips the network
    embedded: EmbeddedMaestroConfig = field(default_factory=EmbeddedMaestroConfig)


@dataclass
class EmbeddedSC09Config:
    clips: int = 3200
    seed: int = 0
    noise_db: float = -35.0  # light background noise, relative to full scale


@dataclass
class FetchSC09Config:
    url: str = SPEECH_COMMANDS_URL
    sha256: Optional[str] = None
    local_path: Optional[str] = None  # an already-downloaded speech_commands tar.gz
    sc09_archive: Optional[str] = None  # a pre-made sc09.tar.gz, by path or URL
    sc09_sha256: Optional[str] = None
    embedded: EmbeddedSC09Config = field(default_factory=EmbeddedSC09Config)


# ---------------------------------------------------------------- extraction

@dataclass
class NotesConfig:
    sustain: Literal["extend", "ignore"] = "extend"  # extend note ends while the pedal is down
    seq_len: int = 256
    stride: int = 64
    max_failed_share: float = 0.05


@dataclass
class MelsConfig:
    preset: str = "cpu"
    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 64
    n_frames: int = 64
    fmin: float = 0.0
    fmax: Optional[float] = 8000.0
    representation: Literal["mel", "linear"] = "mel"
    clip_std: float = 3.0  # SpecGAN: normalise per bin, clip at 3 std, scale to [-1, 1]
    batch_size: int = 256


# ---------------------------------------------------------------- training

@dataclass
class TrainConfig:
    """The shared GAN recipe; defaults are WaveGAN/SpecGAN's WGAN-GP."""

    loss: Literal["wgan-gp", "hinge"] = "wgan-gp"
    gp_weight: float = 10.0
    critic_steps: int = 5
    spectral_norm: bool = False
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)
    batch_size: int = 64
    steps: int = 2000
    checkpoint_every: int = 200
    log_every: int = 10
    seed: int = 0  # seeds the model init (before the models are built), the batches and every draw
    ema_decay: float = 0.0  # 0: off; else the generator's EMA (e.g. 0.999) is what is sampled and evaluated
    init_from: Optional[str] = None  # warm start: null | champion (the registry's champion) | a checkpoint path
    monitor_every: int = 0  # 0: off; else score the generator on the valid split every N steps, keep best.pt
    monitor_patience: int = 0  # 0: train all steps; else stop after N monitor scores without a new best


@dataclass
class PianoGANModelConfig:
    latent_dim: int = 100
    d: int = 32  # channel width multiplier
    seq_len: int = 256
    kernel_size: int = 25
    stride: int = 4
    pitch_head: Literal["continuous", "categorical"] = "continuous"
    gumbel_tau: float = 1.0  # categorical head: temperature of the straight-through Gumbel-softmax's gradient
    pitch_sampling: Literal["softmax", "argmax"] = "softmax"  # categorical head: how samples pick a pitch
    time_head: Literal["continuous", "categorical"] = "continuous"  # step and duration: log value or one-hot bin
    time_bins: int = 32  # categorical time head: log-spaced bins per feature (step 1 ms..4 s, duration 10 ms..8 s)
    key_latent: bool = False  # categorical pitch: a per-window key drawn from z biases every note by a learned profile
    global_bias: bool = False  # generator: per-sample logit biases from z shared by all notes (a key, a tempo)
    critic_summary: bool = False  # critic: a small MLP over per-window statistics (pitch-class and time histograms)
    minibatch_std: bool = False  # critic: append ProGAN's minibatch-std channel before the head


@dataclass
class PianoRenderConfig:
    n_samples: int = 8
    interpolation_steps: int = 8
    sample_rate: int = 22050
    soundfont: Optional[str] = None  # None: look in the usual places, else pretty_midi's synth
    seed: int = 1


@dataclass
class PianoEvalConfig:
    n_samples: int = 256
    seed: int = 2


@dataclass
class PianoGANConfig:
    preset: str = "cpu"
    model: PianoGANModelConfig = field(default_factory=PianoGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    render: PianoRenderConfig = field(default_factory=PianoRenderConfig)
    eval: PianoEvalConfig = field(default_factory=PianoEvalConfig)


@dataclass
class SpectoGANModelConfig:
    latent_dim: int = 100
    d: int = 64
    kernel_size: int = 5
    conditional: bool = False
    n_classes: int = 10


@dataclass
class InversionConfig:
    n_iter: int = 32
    momentum: float = 0.99  # fast Griffin-Lim (Perraudin et al. 2013)


@dataclass
class SpectoRenderConfig:
    n_samples: int = 16
    interpolation_steps: int = 8
    seed: int = 1


@dataclass
class SpectoEvalConfig:
    n_samples: int = 50000
    is_splits: int = 10
    ndb_bins: int = 50
    seed: int = 2


@dataclass
class SpectoGANConfig:
    preset: str = "cpu"
    model: SpectoGANModelConfig = field(default_factory=SpectoGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    inversion: InversionConfig = field(default_factory=InversionConfig)
    render: SpectoRenderConfig = field(default_factory=SpectoRenderConfig)
    eval: SpectoEvalConfig = field(default_factory=SpectoEvalConfig)


@dataclass
class WaveGANModelConfig:
    latent_dim: int = 100
    d: int = 64  # channel width multiplier: 16d channels after the dense layer
    kernel_size: int = 25
    stride: int = 4  # five layers: 16 · 4^5 = 16,384 samples
    phase_shuffle: int = 2  # critic: each example shifted by a random -n..n samples between layers; 0: off
    conditional: bool = False
    n_classes: int = 10


@dataclass
class WaveGANConfig:
    """Render and eval settings are SpectoGAN's classes: one protocol judges both digit GANs."""

    preset: str = "cpu"
    model: WaveGANModelConfig = field(default_factory=WaveGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    render: SpectoRenderConfig = field(default_factory=SpectoRenderConfig)
    eval: SpectoEvalConfig = field(default_factory=SpectoEvalConfig)


@dataclass
class ClassifierConfig:
    channels: int = 32
    epochs: int = 30
    patience: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    augment: bool = True  # SpecAugment-style masks and small time shifts while training
    seed: int = 0


# ---------------------------------------------------------------- orchestration

@dataclass
class RetrainConfig:
    cron: str = "0 3 * * 1"  # Mondays 03:00
    gans: list[str] = field(default_factory=lambda: ["pianogan", "spectogan", "wavegan"])


@dataclass
class RuntimeConfig:
    """Machine settings: not experiment identity, so no stage lists them as params."""

    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: int = 0  # torch CPU threads; 0: the cores this process may use (os.sched_getaffinity)
    workers: int = 2
    compile: bool = False
    autocast: bool = True  # bf16 autocast on CUDA only
    progress: bool = True
    mlflow: bool = True


@dataclass
class Params:
    data: DataConfig = field(default_factory=DataConfig)
    fetch_maestro: FetchMaestroConfig = field(default_factory=FetchMaestroConfig)
    fetch_sc09: FetchSC09Config = field(default_factory=FetchSC09Config)
    notes: NotesConfig = field(default_factory=NotesConfig)
    mels: MelsConfig = field(default_factory=MelsConfig)
    pianogan: PianoGANConfig = field(default_factory=PianoGANConfig)
    spectogan: SpectoGANConfig = field(default_factory=SpectoGANConfig)
    wavegan: WaveGANConfig = field(default_factory=WaveGANConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)


# ---------------------------------------------------------------- loading

def load_params(path: str | os.PathLike = "params.yaml", overrides: Optional[dict] = None) -> Params:
    """Read params.yaml into `Params`; `overrides` is a nested dict applied on top (tests, flows)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found; run from the project root or pass --params")
    with open(path) as f:
        raw = yaml.safe_load(f) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    if overrides:
        raw = deep_merge(raw, overrides)
    return params_from_dict(raw, source=str(path))


def params_from_dict(raw: dict, source: str = "params") -> Params:
    raw = copy.deepcopy(raw)
    for section, presets in PRESETS.items():
        body = raw.get(section)
        if body is None:
            body = raw[section] = {}
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: '{section}' must be a mapping, got {type(body).__name__}")
        name = body.get("preset", "cpu")
        if name not in presets:
            raise ConfigError(f"{source}: '{section}.preset' is {name!r}; choose one of {sorted(presets)}")
        raw[section] = deep_merge(presets[name], body)
    return build(Params, raw, source, "")


def deep_merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def build(cls, data: Any, source: str, where: str):
    """Build dataclass `cls` from a dict, checking every key and type."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: '{where or '<top>'}' must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            raise ConfigError(
                f"{source}: unknown key '{_join(where, key)}' (known: {', '.join(sorted(names))})")
    kwargs = {k: _coerce(hints[k], v, source, _join(where, k)) for k, v in data.items()}
    return cls(**kwargs)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else str(key)


def _coerce(tp, value, source: str, where: str):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, source, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, source, where)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{source}: '{where}' is {value!r}; choose one of {list(args)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: '{where}' must be a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{source}: '{where}' needs {len(args)} values, got {value!r}")
            return tuple(_coerce(a, v, source, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        return origin(_coerce(item, v, source, f"{where}[{i}]") for i, v in enumerate(value))
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: '{where}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: '{where}' must be an integer, got {value!r}")
        return value
    if tp is float:
        # YAML 1.1 reads `1e-4` (no dot) as a string: accept it rather than surprise people.
        if isinstance(value, bool):
            raise ConfigError(f"{source}: '{where}' must be a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: '{where}' must be a number, got {value!r}") from None
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: '{where}' must be a string, got {value!r}")
        return value
    return value


def to_dict(cfg) -> dict:
    """A dataclass as plain data (tuples as lists), for logging the resolved config once."""
    def plain(v):
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return plain(dataclasses.asdict(cfg))


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}: the form MLflow params and `dvc exp show` use."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out
