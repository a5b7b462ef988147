"""SC09 WAV -> 16,384-sample waveforms per split: what WaveGAN trains on.

The clips, their order and their labels are the mels stage's (`mels.list_splits`), loaded by the
same code (`mels.load_clips`: mono, 16 kHz, zero-padded or trimmed to hop · frames = 16,384
samples), so the waveforms WaveGAN learns and the spectrograms its output is judged against
come from the same recordings.

Normalisation: none beyond reading 16-bit PCM as floats in [-1, 1), WaveGAN's own choice. Clips
keep their recorded level, with no per-clip peak or RMS scaling, because the judge analyses
generated audio with the mel statistics of the recordings: a generator taught rescaled clips
would be judged at the wrong loudness. Samples beyond ±1 (float WAVs only) are clipped to the
generator's tanh range and the clips counted.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import torch

from ganaudio.config import MelsConfig
from ganaudio.data.failures import Skipped
from ganaudio.data.mels import FIXES, SPLITS, list_splits, load_clips, n_samples
from ganaudio.utils.io import atomic_dir

log = logging.getLogger(__name__)


def extract_waves(sc09_root: str | os.PathLike, out_dir: str | os.PathLike, cfg: MelsConfig,
                  workers: int = 2) -> dict[str, Any]:
    """SC09 folders -> `out_dir/{train,valid,test}.pt`, all or nothing.

    Each file: `x` float32 (N, 1, 16384) in [-1, 1], `labels` int64 (N,), `speakers`, `files`.
    """
    sc09_root, out_dir = Path(sc09_root), Path(out_dir)
    t0 = time.perf_counter()
    listed = list_splits(sc09_root)  # fail before any slow work
    # The mels stage's skip policy and limit: both stages leave out the same unusable clips.
    skipped = Skipped("mels.max_failed_share", "re-fetch the data (`dvc repro -f fetch_sc09`) or delete those files")
    blobs, fixes, clipped, levels, total = {}, {}, {}, {}, 0
    for split in SPLITS:
        files, parsed = listed[split]
        audio, counts, unusable = load_clips(files, cfg, workers, desc=f"waves {split}")  # (N, S)
        for i, e in sorted(unusable.items()):
            skipped.add(e.reason, f"{split}/{files[i].name}", str(e))
        keep = [i for i in range(len(files)) if i not in unusable]  # x holds these rows, in order
        files, parsed, total = [files[i] for i in keep], [parsed[i] for i in keep], total + len(files)
        x = torch.from_numpy(audio[keep] if unusable else audio)
        over = x.abs().amax(dim=1) > 1.0 if len(x) else torch.zeros(0, dtype=torch.bool)
        clipped[split] = int(over.sum())
        blobs[split] = {"x": x.clamp_(-1.0, 1.0)[:, None],  # (N, 1, S); in place: real SC09 train is 1.2 GB
                        "labels": torch.tensor([d for d, _ in parsed], dtype=torch.int64),
                        "speakers": [s for _, s in parsed],
                        "files": [f.name for f in files]}
        fixes[split] = dict(counts)
        levels[split] = _levels(blobs[split]["x"])
        log.info("waves %s: %d clips, %d skipped, fixes %s, clipped %d", split, len(files), len(unusable),
                 dict(counts), clipped[split])
    skipped.check(total, cfg.max_failed_share, str(sc09_root))
    with atomic_dir(out_dir) as tmp:
        for split in SPLITS:
            torch.save(blobs[split], tmp / f"{split}.pt")
    return {"clips": {s: len(blobs[s]["files"]) for s in SPLITS},
            "fixes": {k: sum(f[k] for f in fixes.values()) for k in FIXES},
            "clipped": clipped, "levels": levels,
            "shape": [1, n_samples(cfg)], "sample_rate": cfg.sample_rate,
            **skipped.summary(total),
            "seconds": round(time.perf_counter() - t0, 3)}


def _levels(x: torch.Tensor) -> dict[str, float]:
    """Median peak and RMS of (N, 1, S) clips: the loudness a generator has to reach."""
    if len(x) == 0:
        return {"median_peak": 0.0, "median_rms": 0.0}
    flat = x.flatten(1).double()
    return {"median_peak": round(float(flat.abs().amax(1).median()), 4),
            "median_rms": round(float(flat.square().mean(1).sqrt().median()), 4)}
