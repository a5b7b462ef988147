"""Official MAESTRO v3.0.0, MIDI only: download the 56 MB zip, extract, check it is whole.

The zip holds `maestro-v3.0.0/maestro-v3.0.0.csv` (+ .json) and `maestro-v3.0.0/<year>/*.midi`;
the embedded mini-MAESTRO (data/embedded/piano.py) writes the same layout, so everything
downstream reads one format.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from ganaudio.config import FetchMaestroConfig
from ganaudio.data.download import TIMEOUT_S, DownloadError, extract, obtain
from ganaudio.utils.io import replace_dir

log = logging.getLogger(__name__)

# sha256 of maestro-v3.0.0-midi.zip (58,416,533 bytes), as published with the dataset and pinned
# by muspy (MAESTRODatasetV3). `fetch_maestro.sha256` in params.yaml overrides it for a mirror.
MAESTRO_V3_MIDI_SHA256 = "70470ee253295c8d2c71e6d9d4a815189e35c89624b76d22fce5a019d5dde12c"

MAESTRO_DIRNAME = "maestro-v3.0.0"
MAESTRO_CSV = f"{MAESTRO_DIRNAME}.csv"
CSV_COLUMNS = ("canonical_composer", "canonical_title", "split", "year", "midi_filename",
               "audio_filename", "duration")


def fetch_maestro(cfg: FetchMaestroConfig, out_dir: str | os.PathLike, cache_dir: str | os.PathLike,
                  *, progress: bool = True, timeout: float = TIMEOUT_S) -> Path:
    """Put a verified MAESTRO v3.0.0 MIDI tree at `out_dir/maestro-v3.0.0/` and return that folder.

    `cfg.local_path` (an already-downloaded zip) is used in place with no network; otherwise
    `cfg.url` is downloaded into `cache_dir` (resumable, skipped when already there).
    """
    sha256 = cfg.sha256 or MAESTRO_V3_MIDI_SHA256
    source = cfg.local_path or cfg.url
    archive = obtain(source, cache_dir, sha256, progress=progress, timeout=timeout)

    # Extract and validate in a staging folder, then rename: a bad archive leaves out_dir alone.
    out_dir = Path(out_dir)
    staging = out_dir.with_name(f".{out_dir.name}.staging-{uuid.uuid4().hex[:8]}")
    prefix = MAESTRO_DIRNAME + "/"
    try:
        extract(archive, staging, lambda name: name.startswith(prefix), progress=progress)
        if not (staging / MAESTRO_DIRNAME / MAESTRO_CSV).is_file():
            raise DownloadError(
                f"{archive}: no {prefix}{MAESTRO_CSV} inside; this is not the MAESTRO v3.0.0 MIDI "
                f"zip, fix fetch_maestro.url/local_path in params.yaml")
        validate_maestro(staging / MAESTRO_DIRNAME, archive=archive)
        replace_dir(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir / MAESTRO_DIRNAME


def validate_maestro(root: str | os.PathLike, archive: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the metadata CSV and check every MIDI file it lists exists; returns the table.

    Errors name the archive member when `archive` is given (the staging folder is temporary).
    """
    root = Path(root)
    csv = root / MAESTRO_CSV
    where = f"{archive}: {MAESTRO_DIRNAME}/{MAESTRO_CSV}" if archive else str(csv)
    try:
        table = pd.read_csv(csv)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DownloadError(
            f"{where}: cannot read the metadata CSV ({e}); delete the archive and fetch again") from None
    missing_cols = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing_cols:
        raise DownloadError(
            f"{where}: missing columns {missing_cols} (has {list(table.columns)}); this is not the "
            f"MAESTRO v3.0.0 CSV, fix fetch_maestro.url/local_path in params.yaml")
    missing = [f for f in table["midi_filename"].astype(str) if not (root / f).is_file()]
    if missing:
        raise DownloadError(
            f"{where}: {len(missing)} of {len(table)} listed MIDI files are missing (first: "
            f"{missing[0]}); the archive is incomplete: delete it from the cache and fetch again")
    log.info("%s: %d pieces, splits %s", root, len(table), table["split"].value_counts().to_dict())
    return table
