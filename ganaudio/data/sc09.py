"""Official SC09: the ten digit words of Speech Commands v0.02, split by its own list files.

Speech Commands stores `<word>/<speaker>_nohash_<n>.wav` plus `validation_list.txt` and
`testing_list.txt` (relative paths; everything else is train). SC09 keeps `zero` … `nine`
and names clips `<Digit>_<speaker>_nohash_<n>.wav`, the layout WaveGAN/SpecGAN published as
`sc09.tar.gz` (`sc09/{train,valid,test}/…`), which is accepted directly too.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Optional

from ganaudio.config import FetchSC09Config
from ganaudio.data.download import TIMEOUT_S, DownloadError, extract, obtain
from ganaudio.utils.io import replace_dir

log = logging.getLogger(__name__)

# sha256 of speech_commands_v0.02.tar.gz (2,428,923,189 bytes), from tensorflow_datasets'
# url_checksums/speech_commands.txt (torchaudio pins the same value). `fetch_sc09.sha256` overrides.
SPEECH_COMMANDS_V2_SHA256 = "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58"

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SPLITS = ("train", "valid", "test")
LIST_FILES = {"validation_list.txt": "valid", "testing_list.txt": "test"}
_SC09_NAME = re.compile(r"^(%s)_[^/]+\.wav$" % "|".join(d.capitalize() for d in DIGITS))


def sc09_name(rel: str) -> str:
    """'zero/0a2b400e_nohash_0.wav' -> 'Zero_0a2b400e_nohash_0.wav'."""
    word, fname = PurePosixPath(rel).parts[-2:]
    return f"{word.capitalize()}_{fname}"


def fetch_sc09(cfg: FetchSC09Config, out_dir: str | os.PathLike, cache_dir: str | os.PathLike,
               *, progress: bool = True, timeout: float = TIMEOUT_S) -> dict[str, int]:
    """Write SC09 as `out_dir/{train,valid,test}/<Digit>_<speaker>_nohash_<n>.wav`; counts per split.

    From `cfg.sc09_archive` (a pre-made sc09.tar.gz) when set, else from Speech Commands v0.02
    (`cfg.local_path` used in place, or `cfg.url` downloaded into `cache_dir`). Only the digit
    clips are extracted, in one streaming pass over the archive. `out_dir` is replaced whole
    only once everything is in place.
    """
    out_dir = Path(out_dir)
    staging = out_dir.with_name(f".{out_dir.name}.staging-{uuid.uuid4().hex[:8]}")
    try:
        if cfg.sc09_archive:
            archive = obtain(cfg.sc09_archive, cache_dir, cfg.sc09_sha256, progress=progress, timeout=timeout)
            extract(archive, staging, _premade_member, progress=progress)
        else:
            sha256 = cfg.sha256 or SPEECH_COMMANDS_V2_SHA256
            archive = obtain(cfg.local_path or cfg.url, cache_dir, sha256, progress=progress, timeout=timeout)
            raw = staging.with_name(staging.name + "-raw")
            try:
                extract(archive, raw, _speech_commands_member, progress=progress)
                _split_speech_commands(archive, raw, staging)
            finally:
                shutil.rmtree(raw, ignore_errors=True)
        for split in SPLITS:  # an empty split still gets its folder
            (staging / split).mkdir(parents=True, exist_ok=True)
        counts = {s: _count(staging / s) for s in SPLITS}
        if sum(counts.values()) == 0:
            raise DownloadError(
                f"{archive}: no SC09 digit clips found inside; this is neither Speech Commands v0.02 "
                f"nor sc09.tar.gz, fix fetch_sc09 in params.yaml")
        replace_dir(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("SC09 in %s: %s", out_dir, counts)
    return counts


def _norm(name: str) -> str:
    return str(PurePosixPath(*[p for p in PurePosixPath(name).parts if p not in ("", ".")]))


def _speech_commands_member(name: str) -> Optional[str]:
    name = _norm(name)
    if name in LIST_FILES:
        return name
    parts = PurePosixPath(name).parts
    if len(parts) == 2 and parts[0] in DIGITS and parts[1].endswith(".wav"):
        return name
    return None


def _premade_member(name: str) -> Optional[str]:
    parts = PurePosixPath(_norm(name)).parts
    if parts and parts[0] == "sc09":
        parts = parts[1:]
    if len(parts) == 2 and parts[0] in SPLITS and _SC09_NAME.match(parts[1]):
        return f"{parts[0]}/{parts[1]}"
    return None


def _read_list(archive: Path, path: Path) -> set[str]:
    if not path.is_file():
        raise DownloadError(
            f"{archive}: {path.name} is missing; the split needs it: this is not Speech Commands "
            f"v0.02, fix fetch_sc09.url/local_path in params.yaml")
    return {_norm(line.strip()) for line in path.read_text().splitlines() if line.strip()}


def _split_speech_commands(archive: Path, raw: Path, staging: Path) -> None:
    """raw/<word>/<file>.wav + the two lists -> staging/<split>/<Digit>_<file>.wav (renames only)."""
    split_of = {}
    for list_name, split in LIST_FILES.items():
        for rel in _read_list(archive, raw / list_name):
            split_of[rel] = split
    for split in SPLITS:
        (staging / split).mkdir(parents=True, exist_ok=True)
    for word in DIGITS:
        folder = raw / word
        if not folder.is_dir():
            continue
        for wav in sorted(folder.glob("*.wav")):
            rel = f"{word}/{wav.name}"
            os.replace(wav, staging / split_of.get(rel, "train") / sc09_name(rel))


def _count(folder: Path) -> int:
    return sum(1 for p in folder.glob("*.wav")) if folder.is_dir() else 0
