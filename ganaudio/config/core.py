"""Typed configuration: params.yaml -> dataclasses. This module loads; each section's dataclasses
live in their own module (`ganaudio.config.<section>`), its named presets in `ganaudio.presets.<section>`.

Every section of params.yaml maps to a dataclass. Loading is loud: an unknown or mistyped key is a
one-line `ConfigError` naming the key and the file. Sections with a `preset:` key start from a named
preset and apply the explicit keys on top, so `dvc exp run -S spectogan.preset=paper` switches a
whole recipe and `-S ++spectogan.train.lr_g=2e-4` tweaks one value of it (`++`: a key params.yaml
does not list).

A stage loads only the sections it reads (`load_params(path, sections=[...])`), and so imports only
their modules: dvc.yaml lists exactly those as its deps, and an edit to one GAN's preset or config
reruns that GAN's stages alone.

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
import importlib
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Optional

import yaml

from ganaudio.errors import GanaudioError


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


# params.yaml section -> (module under ganaudio.config, dataclass). Imported only when loaded.
SECTIONS = {
    "data": ("fetch", "DataConfig"),
    "fetch_maestro": ("fetch", "FetchMaestroConfig"),
    "fetch_sc09": ("fetch", "FetchSC09Config"),
    "notes": ("notes", "NotesConfig"),
    "mels": ("mels", "MelsConfig"),
    "pianogan": ("pianogan", "PianoGANConfig"),
    "spectogan": ("spectogan", "SpectoGANConfig"),
    "wavegan": ("wavegan", "WaveGANConfig"),
    "classifier": ("classifier", "ClassifierConfig"),
    "retrain": ("core", "RetrainConfig"),
    "runtime": ("core", "RuntimeConfig"),
}
# Sections that start from a named preset: ganaudio/presets/<section>.py holds their PRESETS.
PRESET_SECTIONS = ("mels", "pianogan", "spectogan", "wavegan")


@dataclass
class Params:
    """The loaded sections, each an instance of its SECTIONS class; a section not asked for is None,
    so reading it by mistake fails loudly."""

    data: Any = None
    fetch_maestro: Any = None
    fetch_sc09: Any = None
    notes: Any = None
    mels: Any = None
    pianogan: Any = None
    spectogan: Any = None
    wavegan: Any = None
    classifier: Any = None
    retrain: Optional[RetrainConfig] = None
    runtime: Optional[RuntimeConfig] = None

    def validate(self) -> None:
        if self.notes is not None and self.pianogan is not None and self.notes.seq_len != self.pianogan.model.seq_len:
            raise Invalid("pianogan.model.seq_len", self.pianogan.model.seq_len,
                          f"equal to notes.seq_len ({self.notes.seq_len}): the generator writes whole windows")
        if self.runtime is not None and not DEVICE_RE.match(self.runtime.device):
            raise Invalid("runtime.device", self.runtime.device, "auto, cpu, mps, cuda or cuda:N")


def presets(section: str) -> dict[str, dict[str, Any]]:
    """{preset name: overrides} of a section in PRESET_SECTIONS."""
    return importlib.import_module(f"ganaudio.presets.{section}").PRESETS


def section_class(section: str) -> type:
    module, name = SECTIONS[section]
    return getattr(importlib.import_module(f"ganaudio.config.{module}"), name)


# ---------------------------------------------------------------- loading

def load_params(path: str | os.PathLike = "params.yaml", overrides: Optional[dict] = None,
                sections: Optional[Iterable[str]] = None) -> Params:
    """Read params.yaml into `Params`; `overrides` is a nested dict applied on top (tests, flows).

    `sections`: build only these (and `runtime`, which every stage applies); None builds all. The
    other sections' names are still checked, but not their contents: a stage does not read them.
    """
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
    return params_from_dict(raw, source=str(path), sections=sections)


def check_params(path: str | os.PathLike = "params.yaml") -> Optional[Params]:
    """Load `path`, every section, to fail on a bad params file before DVC runs anything.
    A workspace without one has nothing to check (None)."""
    path = Path(path)
    return load_params(path) if path.exists() else None


def _yaml_problem(path: Path, e: yaml.YAMLError) -> str:
    """'params.yaml:12:5: YAML syntax error (mapping values are not allowed here); fix that line'."""
    mark = getattr(e, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    what = getattr(e, "problem", None) or type(e).__name__
    return f"{where}: YAML syntax error ({' '.join(str(what).split())}); fix that line"


def params_from_dict(raw: dict, source: str = "params", sections: Optional[Iterable[str]] = None) -> Params:
    for key in raw:
        if key not in SECTIONS:
            raise ConfigError(f"{source}: unknown key '{key}' (known: {', '.join(sorted(SECTIONS))})")
    wanted = list(SECTIONS) if sections is None else list(dict.fromkeys([*sections, "runtime"]))
    built = {}
    for section in wanted:
        body = copy.deepcopy(raw.get(section))
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: '{section}' must be a mapping, got {type(body).__name__}")
        if section in PRESET_SECTIONS:
            named = presets(section)
            name = body.get("preset", "cpu")
            if name not in named:
                raise ConfigError(f"{source}: '{section}.preset' is {name!r}; choose one of {sorted(named)}")
            body = deep_merge(named[name], body)
        built[section] = build(section_class(section), body, source, section)
    params = Params(**built)
    try:
        params.validate()
    except Invalid as e:
        raise ConfigError(_not_allowed(source, e.key, e.value, e.allowed)) from None
    return params


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
