"""The `data`, `fetch_maestro` and `fetch_sc09` sections: where the raw data sets come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional

from ganaudio.config.core import SHA256_RE, Count, Invalid, Range, Seed

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
