"""Typed configuration: params.yaml -> dataclasses, in this one place.

Every section of params.yaml maps to a dataclass below. Loading is loud: an unknown or
mistyped key is a one-line `ConfigError` naming the key and the file. Sections with a
`preset:` key start from a named preset (PRESETS) and apply the explicit keys on top, so
`dvc exp run -S spectogan.preset=paper` switches a whole recipe and
`-S ++spectogan.train.lr_g=2e-4` tweaks one value of it (`++`: a key params.yaml does not list).

Every value is checked when it is loaded, not when a stage first uses it: a field's type may
carry its allowed range (`Count`, `Share`, `Positive`, … below: `typing.Annotated` with a
`Range`), and a class may add a `validate()` for rules that span fields. A bad value is a
one-line `ConfigError` naming the key, the value and what is allowed. Check a file with
`ganaudio check-params params.yaml` before DVC runs anything.

Machine settings (device, workers, compile, precision, tracking) live in `RuntimeConfig`, which no
DVC stage lists under `params:`, so changing them reruns nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml

from ganaudio.errors import GanaudioError
from ganaudio.presets import PRESETS


class ConfigError(GanaudioError, ValueError):
    """A params.yaml problem, phrased as one line that names the key and the file."""


class Invalid(Exception):
    """Raised by a `validate()` method: `key` (relative to its class) holds `value`, which is not `allowed`."""

    def __init__(self, key: str, value: Any, allowed: str):
        super().__init__(key, value, allowed)
        self.key, self.value, self.allowed = key, value, allowed


@dataclass(frozen=True)
class Range:
    """Allowed numbers lo <= x <= hi (`open_lo`/`open_hi`: strict); floats must also be finite."""

    lo: Optional[float] = None
    hi: Optional[float] = None
    open_lo: bool = False
    open_hi: bool = False

    def allows(self, x: float) -> bool:
        if isinstance(x, float) and not math.isfinite(x):
            return False
        if self.lo is not None and (x <= self.lo if self.open_lo else x < self.lo):
            return False
        return self.hi is None or (x < self.hi if self.open_hi else x <= self.hi)

    def describe(self) -> str:
        def num(x: float) -> str:
            return str(int(x)) if float(x).is_integer() else f"{x:g}"

        lo = None if self.lo is None else f"{'>' if self.open_lo else '>='} {num(self.lo)}"
        hi = None if self.hi is None else f"{'<' if self.open_hi else '<='} {num(self.hi)}"
        return " and ".join(b for b in (lo, hi) if b) or "finite"


# The ranges the fields below use; each name says what the value is.
Count = Annotated[int, Range(lo=1)]  # sizes, steps, counts: >= 1
Seed = Annotated[int, Range(lo=0, hi=2**32 - 1)]  # what numpy, torch and random all accept
Share = Annotated[float, Range(0, 1)]  # probabilities and shares
Positive = Annotated[float, Range(lo=0, open_lo=True)]  # learning rates, temperatures: finite, > 0
NonNegative = Annotated[float, Range(lo=0)]
Beta = Annotated[float, Range(0, 1, open_hi=True)]  # Adam's betas, a momentum
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


# ---------------------------------------------------------------- data sources

MAESTRO_URL = "https://storage.googleapis.com/magentadata/datasets/maestro/v3.0.0/maestro-v3.0.0-midi.zip"
SPEECH_COMMANDS_URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"


@dataclass
class DataConfig:
    source: Literal["embedded", "official"] = "embedded"
    seed: Seed = 0


@dataclass
class EmbeddedMaestroConfig:
    pieces: Count = 120
    seed: Seed = 0


@dataclass
class FetchMaestroConfig:
    url: str = MAESTRO_URL
    sha256: Optional[str] = None
    local_path: Optional[str] = None  # an already-downloaded zip; skips the network
    embedded: EmbeddedMaestroConfig = field(default_factory=EmbeddedMaestroConfig)

    def validate(self) -> None:
        _check_sha256(self, "sha256")


@dataclass
class EmbeddedSC09Config:
    clips: Annotated[int, Range(lo=30)] = 3200  # 30: enough speakers for every split (speech.MIN_CLIPS)
    seed: Seed = 0
    noise_db: Annotated[float, Range(hi=0)] = -35.0  # light background noise, relative to full scale


@dataclass
class FetchSC09Config:
    url: str = SPEECH_COMMANDS_URL
    sha256: Optional[str] = None
    local_path: Optional[str] = None  # an already-downloaded speech_commands tar.gz
    sc09_archive: Optional[str] = None  # a pre-made sc09.tar.gz, by path or URL
    sc09_sha256: Optional[str] = None
    embedded: EmbeddedSC09Config = field(default_factory=EmbeddedSC09Config)

    def validate(self) -> None:
        _check_sha256(self, "sha256")
        _check_sha256(self, "sc09_sha256")


def _check_sha256(cfg, key: str) -> None:
    value = getattr(cfg, key)
    if value is not None and not SHA256_RE.match(value):
        raise Invalid(key, value, "null or 64 hex digits (a sha256 sum)")


# ---------------------------------------------------------------- extraction

@dataclass
class NotesConfig:
    sustain: Literal["extend", "ignore"] = "extend"  # extend note ends while the pedal is down
    seq_len: Annotated[int, Range(lo=2)] = 256
    stride: Count = 64
    max_failed_share: Share = 0.05  # unreadable, empty or drums-only files skipped before the stage fails


@dataclass
class MelsConfig:
    preset: str = "cpu"
    sample_rate: Count = 16000
    n_fft: Annotated[int, Range(lo=2)] = 1024
    hop_length: Count = 256
    n_mels: Count = 64
    n_frames: Count = 64
    fmin: NonNegative = 0.0
    fmax: Optional[Positive] = 8000.0
    representation: Literal["mel", "linear"] = "mel"
    clip_std: Positive = 3.0  # SpecGAN: normalise per bin, clip at 3 std, scale to [-1, 1]
    batch_size: Count = 256
    max_failed_share: Share = 0.05  # unreadable, empty or silent clips skipped before the stage fails

    def validate(self) -> None:
        nyquist = self.sample_rate / 2
        if self.fmax is not None and self.fmax > nyquist:
            raise Invalid("fmax", self.fmax, f"null or <= sample_rate / 2 = {nyquist:g}")
        if self.fmin >= (self.fmax if self.fmax is not None else nyquist):
            raise Invalid("fmin", self.fmin, f"< fmax ({self.fmax if self.fmax is not None else nyquist:g})")
        n_fft = self.n_fft if self.representation == "mel" else 2 * self.n_mels  # see data/mels.py
        if self.hop_length >= n_fft:
            raise Invalid("hop_length", self.hop_length,
                          f"< the STFT size {n_fft} ({self.representation} mode), or frames skip samples")


# ---------------------------------------------------------------- training

@dataclass
class TrainConfig:
    """The shared GAN recipe; defaults are WaveGAN/SpecGAN's WGAN-GP."""

    loss: Literal["wgan-gp", "hinge"] = "wgan-gp"
    gp_weight: NonNegative = 10.0
    r1_weight: NonNegative = 0.0  # γ of the zero-centred penalty (γ/2)·E‖∇D(real)‖² (R1), for either loss
    r2_weight: NonNegative = 0.0  # the same on fakes (R2)
    augment: list[str] = field(default_factory=list)  # DiffAugment policies for the critic: time, freq, cutout, gain
    critic_steps: Count = 5
    spectral_norm: bool = False
    lr_g: Positive = 1e-4
    lr_d: Positive = 1e-4
    betas: tuple[Beta, Beta] = (0.5, 0.9)
    batch_size: Count = 64
    steps: Count = 2000
    checkpoint_every: Count = 200
    log_every: Count = 10
    seed: Seed = 0  # seeds the model init (before the models are built), the batches and every draw
    ema_decay: Beta = 0.0  # 0: off; else the generator's EMA (e.g. 0.999) is what is sampled and evaluated
    init_from: Optional[str] = None  # warm start: null | champion (the registry's champion) | a checkpoint path
    monitor_every: Annotated[int, Range(lo=0)] = 0  # 0: off; else score the generator on the valid split every N steps, keep best.pt
    monitor_patience: Annotated[int, Range(lo=0)] = 0  # 0: train all steps; else stop after N monitor scores without a new best


@dataclass
class PianoGANModelConfig:
    latent_dim: Count = 100
    d: Count = 32  # channel width multiplier
    seq_len: Annotated[int, Range(lo=2)] = 256
    kernel_size: Count = 25
    stride: Annotated[int, Range(lo=2)] = 4
    pitch_head: Literal["continuous", "categorical"] = "continuous"
    gumbel_tau: Positive = 1.0  # categorical heads: temperature of the softmax behind the one-hot's gradient
    # categorical heads: what the critic sees in training: gumbel (a Gumbel-softmax draw per note),
    # argmax (straight-through argmax) or softmax (the distribution itself; samples take its argmax)
    train_notes: Literal["gumbel", "argmax", "softmax"] = "gumbel"
    pitch_sampling: Literal["softmax", "argmax"] = "softmax"  # categorical heads: how samples pick each note
    time_head: Literal["continuous", "categorical"] = "continuous"  # step and duration: log value or one-hot bin
    time_bins: Annotated[int, Range(lo=16)] = 32  # categorical time head: log-spaced bins per feature (step 1 ms..4 s, duration 10 ms..8 s)
    key_latent: bool = False  # categorical pitch: a per-window key drawn from z biases every note by a learned profile
    global_bias: bool = False  # generator: per-sample logit biases from z shared by all notes (a key, a tempo)
    register_latent: bool = False  # categorical pitch: a per-window register (centre, width) from z bounds the pitches
    pitch_range_prior: bool = False  # categorical pitch: pitches outside the training range start 1000x less likely
    critic_summary: bool = False  # critic: a small MLP over per-window statistics (pitch-class and time histograms)
    minibatch_std: bool = False  # critic: append ProGAN's minibatch-std channel before the head
    position_noise: bool = False  # generator: per-position noise after each upsampling layer (StyleGAN-style)
    head_norm_gain: NonNegative = 0.0  # categorical heads: 0 off; else they read h normalised over positions x this gain
    critic_order: bool = False  # critic (categorical pitch): an MLP over pitch-class transitions and intervals

    def validate(self) -> None:
        if self.kernel_size < self.stride:
            raise Invalid("kernel_size", self.kernel_size, f">= stride ({self.stride})")
        if self.train_notes != "gumbel" and self.pitch_sampling != "argmax":
            raise Invalid("pitch_sampling", self.pitch_sampling,
                          f"argmax with train_notes {self.train_notes} (softmax draws notes the critic never judged)")
        if self.key_latent and self.pitch_head != "categorical":
            raise Invalid("key_latent", self.key_latent, "false unless pitch_head is categorical")
        if self.key_latent and self.latent_dim < 12:
            raise Invalid("latent_dim", self.latent_dim, ">= 12 with key_latent (one dimension per key)")


@dataclass
class PianoRenderConfig:
    n_samples: Count = 8
    interpolation_steps: Annotated[int, Range(lo=2)] = 8  # both ends included
    sample_rate: Count = 22050
    soundfont: Optional[str] = None  # a .sf2; None: $GANAUDIO_SOUNDFONT, a system GM font, else pretty_midi's TimGM6mb.sf2
    seed: Seed = 1


@dataclass
class PianoEvalConfig:
    n_samples: Annotated[int, Range(lo=2)] = 256  # generated windows per draw (and at most this many target windows); 2: a spread needs two
    seed: Seed = 2
    seeds: Annotated[int, Range(lo=2)] = 5  # draws per row (generators, baselines, reference): their spread is the noise
    copy_run: Annotated[int, Range(lo=2)] = 16  # notes: a verbatim training run this long makes a window a copy
    max_copy_share: Share = 0.05  # novelty gate: fail when this share of windows or more are copies


@dataclass
class PianoPeerConfig:
    """The autoregressive peer (models/note_lstm.py): an LSTM trained by maximum likelihood on the
    same windows, for about the cpu preset's minutes, scored as the evaluation's `autoregressive` row."""

    embed: Count = 64
    hidden: Count = 256
    layers: Count = 2
    time_bins: Annotated[int, Range(lo=16)] = 32  # the GAN's step/duration grid
    batch_size: Count = 32
    lr: Positive = 2e-3
    steps: Count = 6000
    log_every: Count = 50
    temperature: Positive = 1.0  # sampling: 1 plays the learned distribution as it is
    seed: Seed = 0


@dataclass
class PianoGANConfig:
    preset: str = "cpu"
    model: PianoGANModelConfig = field(default_factory=PianoGANModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    peer: PianoPeerConfig = field(default_factory=PianoPeerConfig)
    render: PianoRenderConfig = field(default_factory=PianoRenderConfig)
    eval: PianoEvalConfig = field(default_factory=PianoEvalConfig)


@dataclass
class SpectoGANModelConfig:
    latent_dim: Count = 100
    d: Count = 64
    kernel_size: Annotated[int, Range(lo=2)] = 5  # >= the stride of 2
    conditional: bool = False
    n_classes: Annotated[int, Range(lo=2)] = 10
    upsample: Literal["transposed", "nearest"] = "transposed"  # nearest: 2x nearest + conv, no checkerboard
    minibatch_std: bool = False  # critic: append ProGAN's minibatch-std channel before the head


@dataclass
class InversionConfig:
    n_iter: Count = 32
    momentum: Beta = 0.99  # fast Griffin-Lim (Perraudin et al. 2013); 1 or more diverges


@dataclass
class SpectoRenderConfig:
    n_samples: Count = 16
    interpolation_steps: Annotated[int, Range(lo=2)] = 8  # both ends included
    seed: Seed = 1


@dataclass
class SpectoEvalConfig:
    n_samples: Annotated[int, Range(lo=2)] = 50000  # FID and nearest-neighbour distances need two
    is_splits: Count = 10
    ndb_bins: Annotated[int, Range(lo=2)] = 50
    seed: Seed = 2

    def validate(self) -> None:
        if self.is_splits > self.n_samples:
            raise Invalid("is_splits", self.is_splits, f"<= n_samples ({self.n_samples})")


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
    latent_dim: Count = 100
    d: Count = 64  # channel width multiplier: 16d channels after the dense layer
    kernel_size: Annotated[int, Range(lo=2)] = 25
    stride: Annotated[int, Range(lo=2)] = 4  # five layers: 16 · 4^5 = 16,384 samples
    phase_shuffle: Annotated[int, Range(lo=0)] = 2  # critic: each example shifted by a random -n..n samples between layers; 0: off
    conditional: bool = False
    n_classes: Annotated[int, Range(lo=2)] = 10


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
    channels: Count = 32
    epochs: Count = 30
    patience: Count = 5
    batch_size: Count = 64
    lr: Positive = 1e-3
    augment: bool = True  # SpecAugment-style masks and small time shifts while training
    seed: Seed = 0


# ---------------------------------------------------------------- orchestration

@dataclass
class RetrainConfig:
    cron: str = "0 3 * * 1"  # Mondays 03:00
    timezone: str = "UTC"    # the cron's clock: an IANA name such as Europe/Berlin
    gans: list[Literal["pianogan", "spectogan", "wavegan"]] = field(default_factory=lambda: ["pianogan", "spectogan", "wavegan"])

    def validate(self) -> None:
        from zoneinfo import ZoneInfo

        if len(self.cron.split()) != 5:
            raise Invalid("cron", self.cron, "a 5-field cron expression, e.g. '0 3 * * 1'")
        if not self.gans:
            raise Invalid("gans", self.gans, "one or more of pianogan, spectogan, wavegan")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError; a malformed name a ValueError
            raise Invalid("timezone", self.timezone, "an IANA time zone name such as UTC or Europe/Berlin") from None


@dataclass
class RuntimeConfig:
    """Machine settings: not experiment identity, so no stage lists them as params."""

    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: Annotated[int, Range(lo=0)] = 0  # torch CPU threads; 0: the cores this process may use (os.sched_getaffinity)
    workers: Annotated[int, Range(lo=0)] = 2  # 0 and 1: work in this process
    compile: bool = False
    # fp32, or bf16 autocast over fp32 weights; auto: bf16 only where the device has native bf16
    # (CUDA, a CPU with AVX512-BF16 or AMX). Not a stage param, but part of a checkpoint's identity.
    precision: Literal["auto", "fp32", "bf16"] = "fp32"
    progress: bool = True
    mlflow: bool = True
    download_timeout_s: Positive = 30.0  # per connect and per read; a silent server costs one timeout


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

    def validate(self) -> None:
        if self.notes.seq_len != self.pianogan.model.seq_len:
            raise Invalid("pianogan.model.seq_len", self.pianogan.model.seq_len,
                          f"equal to notes.seq_len ({self.notes.seq_len}): the generator writes whole windows")
        if not DEVICE_RE.match(self.runtime.device):
            raise Invalid("runtime.device", self.runtime.device, "auto, cpu, mps, cuda or cuda:N")


# ---------------------------------------------------------------- loading

def load_params(path: str | os.PathLike = "params.yaml", overrides: Optional[dict] = None) -> Params:
    """Read params.yaml into `Params`; `overrides` is a nested dict applied on top (tests, flows)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found; run from the project root or pass --params")
    with open(path) as f:
        try:
            raw = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise ConfigError(_yaml_problem(path, e)) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    if overrides:
        raw = deep_merge(raw, overrides)
    return params_from_dict(raw, source=str(path))


def check_params(path: str | os.PathLike = "params.yaml") -> Optional[Params]:
    """Load `path` to fail on a bad params file before DVC runs anything: DVC deletes a stage's
    outputs before the stage could refuse it. A workspace without one has nothing to check (None)."""
    path = Path(path)
    return load_params(path) if path.exists() else None


def _yaml_problem(path: Path, e: yaml.YAMLError) -> str:
    """'params.yaml:12:5: YAML syntax error (mapping values are not allowed here); fix that line'."""
    mark = getattr(e, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    what = getattr(e, "problem", None) or type(e).__name__
    return f"{where}: YAML syntax error ({' '.join(str(what).split())}); fix that line"


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
    hints = typing.get_type_hints(cls, include_extras=True)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            raise ConfigError(
                f"{source}: unknown key '{_join(where, key)}' (known: {', '.join(sorted(names))})")
    kwargs = {k: _coerce(hints[k], v, source, _join(where, k)) for k, v in data.items()}
    obj = cls(**kwargs)
    if hasattr(obj, "validate"):
        try:
            obj.validate()
        except Invalid as e:
            raise ConfigError(_not_allowed(source, _join(where, e.key), e.value, e.allowed)) from None
    return obj


def _not_allowed(source: str, where: str, value: Any, allowed: str) -> str:
    return f"{source}: '{where}' is {value!r}; allowed: {allowed}"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else str(key)


def _coerce(tp, value, source: str, where: str):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, source, where)
    if origin is Annotated:
        inner = _coerce(args[0], value, source, where)
        for rule in tp.__metadata__:
            if isinstance(rule, Range) and not rule.allows(inner):
                kind = "an integer" if args[0] is int else "a finite number"
                raise ConfigError(_not_allowed(source, where, inner, f"{kind} {rule.describe()}"))
        return inner
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
