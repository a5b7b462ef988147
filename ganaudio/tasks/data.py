"""The data stages: fetch (embedded or official) and extract, with the summaries and plots they log."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd

from ganaudio.config import Params
from ganaudio.errors import MissingInputError
from ganaudio.tracking import Tracker

log = logging.getLogger(__name__)


def fetch_maestro(params: Params, out_dir: Path, cache_dir: Path) -> dict:
    """`data.source: embedded` builds mini-MAESTRO from a seed; `official` downloads MAESTRO v3.0.0."""
    start = time.perf_counter()
    if params.data.source == "embedded":
        from ganaudio.data.embedded.piano import build_mini_maestro

        root = build_mini_maestro(out_dir, params.fetch_maestro.embedded)
    else:
        from ganaudio.data.maestro import fetch_maestro as fetch

        root = fetch(params.fetch_maestro, out_dir, cache_dir, progress=params.runtime.progress,
                     timeout=params.runtime.download_timeout_s)
    index = pd.read_csv(Path(root) / "maestro-v3.0.0.csv")
    return {"source": params.data.source, "pieces": int(len(index)),
            "pieces_per_split": {str(k): int(v) for k, v in index["split"].value_counts().items()},
            "hours": round(float(index["duration"].sum()) / 3600, 3),
            "seconds": round(time.perf_counter() - start, 2)}


def fetch_sc09(params: Params, out_dir: Path, cache_dir: Path) -> dict:
    """`data.source: embedded` speaks the digits with eSpeak NG; `official` builds SC09 from Speech Commands."""
    start = time.perf_counter()
    if params.data.source == "embedded":
        from ganaudio.data.embedded.speech import build_mini_sc09

        counts = build_mini_sc09(out_dir, params.fetch_sc09.embedded)
    else:
        from ganaudio.data.sc09 import fetch_sc09 as fetch

        counts = fetch(params.fetch_sc09, out_dir, cache_dir, progress=params.runtime.progress,
                       timeout=params.runtime.download_timeout_s)
    return {"source": params.data.source, "clips_per_split": {k: int(v) for k, v in counts.items()},
            "clips": int(sum(counts.values())), "seconds": round(time.perf_counter() - start, 2)}


def extract_notes(params: Params, maestro_dir: Path, out_dir: Path, plots_dir: Path,
                  tracker: Tracker = Tracker()) -> dict:
    from ganaudio.data.notes import extract_notes as extract
    from ganaudio.data.windows import FEATURES
    from ganaudio.plots.piano import plot_note_histograms, plot_piano_rolls

    root = _maestro_root(maestro_dir)
    summary = extract(root, out_dir, params.notes, workers=params.runtime.workers)
    table = pd.read_parquet(out_dir / "table")
    plots_dir.mkdir(parents=True, exist_ok=True)
    plot_note_histograms(table, plots_dir / "note_histograms.png")
    import numpy as np

    with np.load(out_dir / "windows_train.npz") as f:
        windows = f["windows"]
    picks = np.linspace(0, len(windows) - 1, num=min(4, len(windows))).astype(int)
    plot_piano_rolls([windows[i] for i in picks], plots_dir / "piano_rolls.png",
                     titles=[f"train window {i}" for i in picks])
    tracker.log_metrics(numeric_leaves(summary))
    tracker.log_artifacts(plots_dir, "plots")
    log.info("notes: %s (features %s)", summary, FEATURES)
    return summary


def extract_mels(params: Params, sc09_dir: Path, out_dir: Path, plots_dir: Path,
                 tracker: Tracker = Tracker()) -> dict:
    from ganaudio.data.mels import extract_mels as extract
    from ganaudio.plots.spectrogram import plot_spectrogram_grid

    summary = extract(sc09_dir, out_dir, params.mels, workers=params.runtime.workers)
    return _digits_plot_and_log(summary, out_dir, plots_dir, tracker,
                                lambda x, path, titles: plot_spectrogram_grid(x, path, titles=titles, ncols=4))


def extract_waves(params: Params, sc09_dir: Path, out_dir: Path, plots_dir: Path,
                  tracker: Tracker = Tracker()) -> dict:
    """The mels stage's clips as 16,384-sample waveforms (its sample rate and hop · frames), for WaveGAN."""
    from ganaudio.data.waves import extract_waves as extract
    from ganaudio.plots.waveform import plot_waveform_grid

    sr = params.mels.sample_rate
    summary = extract(sc09_dir, out_dir, params.mels, workers=params.runtime.workers)
    return _digits_plot_and_log(summary, out_dir, plots_dir, tracker,
                                lambda x, path, titles: plot_waveform_grid(x, path, sr, titles=titles, ncols=4))


def _digits_plot_and_log(summary: dict, out_dir: Path, plots_dir: Path, tracker: Tracker, plot) -> dict:
    """Four training clips of each digit as plots_dir/digits.png (`plot(x, path, titles)`); the summary's
    numbers and the plots to the tracker."""
    import torch

    blob = torch.load(out_dir / "train.pt", weights_only=False)
    picks, titles = [], []
    for digit in range(10):
        idx = (blob["labels"] == digit).nonzero().flatten()[:4].tolist()
        picks += idx
        titles += [str(digit)] * len(idx)
    plots_dir.mkdir(parents=True, exist_ok=True)
    if picks:
        plot(blob["x"][picks], plots_dir / "digits.png", titles)
    tracker.log_metrics(numeric_leaves(summary))
    tracker.log_artifacts(plots_dir, "plots")
    return summary


def _maestro_root(maestro_dir: Path) -> Path:
    """Accept either the fetch stage's output folder or the maestro-v3.0.0 folder inside it."""
    maestro_dir = Path(maestro_dir)
    if (maestro_dir / "maestro-v3.0.0.csv").exists():
        return maestro_dir
    inner = maestro_dir / "maestro-v3.0.0"
    if (inner / "maestro-v3.0.0.csv").exists():
        return inner
    raise MissingInputError(f"{maestro_dir}: no maestro-v3.0.0.csv found; run `dvc repro fetch_maestro` first")


def numeric_leaves(summary: dict, prefix: str = "") -> dict[str, float]:
    """Flatten a summary dict to the numeric leaves MLflow accepts as metrics."""
    out: dict[str, float] = {}
    for k, v in summary.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(numeric_leaves(v, f"{key}/"))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out
