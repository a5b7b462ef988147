"""WAV -> normalised log-magnitude spectrograms (SpecGAN recipe), for SC09 and for generated audio.

One `SpectrogramTransform` serves extraction, evaluation (re-analysing generated audio) and the
inversion tests, so the features a GAN is trained on and the features it is judged on are the same.

Choices, all following SpecGAN (Donahue et al. 2019):
- log of the *magnitude* (not power): `log(|STFT| + 1e-6)`, mel-filtered in "mel" mode. Magnitude
  halves the dynamic range in log units compared with power, and Griffin-Lim works on magnitudes.
- per-frequency-bin mean/std fitted on the train split, clipped at `clip_std` std, scaled to [-1, 1].
- "linear" mode is SpecGAN's own representation: n_fft = 2 * n_bins (n_bins = cfg.n_mels, e.g.
  paper 128 -> n_fft 256), which yields n_bins + 1 bins; the top (Nyquist) bin is dropped so the
  image side is a power of two.
- frames come from a centred STFT with zero padding (librosa's default `pad_mode="constant"`); a clip
  of hop * n_frames samples gives n_frames + 1 frames and the last is dropped.

Clips that cannot be trained on are skipped, not padded into silence: unreadable files, empty
files (0 samples) and silent ones (RMS below SILENCE_RMS = 1e-4, i.e. -80 dBFS, about 3 LSB of
16-bit audio: digital silence or dither, never a spoken digit). They are counted and listed
under the policy the notes stage shares (ganaudio/data/failures.py, `mels.max_failed_share`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import librosa
import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from ganaudio.config import MelsConfig
from ganaudio.data.failures import Skipped
from ganaudio.errors import BadInputError, MissingInputError
from ganaudio.utils.io import atomic_dir

log = logging.getLogger(__name__)

EPS = 1e-6  # added to the magnitude before the log: -13.8 is the floor for digital silence
SILENCE_RMS = 1e-4  # -80 dBFS: a clip quieter than this holds no speech (see the module doc)
SPLITS = ("train", "valid", "test")
DIGITS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
FIXES = ("resampled", "downmixed", "padded", "trimmed")
_NAME_RE = re.compile(r"^(?P<digit>[A-Za-z]+)_(?P<speaker>[^_]+)_nohash_(?P<n>\d+)\.wav$")


# ---------------------------------------------------------------- geometry

def n_samples(cfg: MelsConfig) -> int:
    """Samples per clip: hop * n_frames (cpu: 16384, ~1.02 s at 16 kHz)."""
    return cfg.hop_length * cfg.n_frames


def n_bins(cfg: MelsConfig) -> int:
    """Rows of the image: n_mels in both modes (in linear mode it sets n_fft = 2 * n_bins)."""
    return cfg.n_mels


def stft_n_fft(cfg: MelsConfig) -> int:
    """The STFT size actually used: cfg.n_fft for mel, 2 * n_bins for linear (see module doc)."""
    return cfg.n_fft if cfg.representation == "mel" else 2 * n_bins(cfg)


def mel_basis(cfg: MelsConfig) -> np.ndarray:
    """librosa's (Slaney) mel filter bank, (n_mels, n_fft // 2 + 1) float32."""
    return librosa.filters.mel(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels,
                               fmin=cfg.fmin, fmax=cfg.fmax, dtype=np.float32)


# ---------------------------------------------------------------- loading

class UnusableClip(BadInputError):
    """A clip that cannot be trained on; `reason` is unreadable, empty or silent."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def load_clip(path: str | os.PathLike, cfg: MelsConfig) -> tuple[np.ndarray, set[str]]:
    """Read one WAV as float32 mono of exactly n_samples(cfg), and say which fixes were needed.

    Real corpora are messy (stray 44.1 kHz or stereo files); fixing and counting beats failing a
    whole extraction, and the counts in the summary show when the fixes are not rare. A file
    that is unreadable, empty or silent raises `UnusableClip`.
    """
    path = Path(path)
    try:
        audio, sr = sf.read(path, dtype="float32", always_2d=True)  # (S, C)
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError / FileNotFoundError
        detail = " ".join(str(e).split())
        raise UnusableClip("unreadable", f"{path}: cannot read as audio ({detail}); re-fetch it or delete it") from None
    if len(audio) == 0:
        raise UnusableClip("empty", f"{path}: empty (0 samples); re-fetch it or delete it")
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms < SILENCE_RMS:
        raise UnusableClip("silent", f"{path}: silent (RMS {rms:.1e} < {SILENCE_RMS:g}); re-fetch it or delete it")
    fixes: set[str] = set()
    if audio.shape[1] > 1:
        fixes.add("downmixed")
    y = audio.mean(axis=1)  # (S,)
    if sr != cfg.sample_rate:
        y = librosa.resample(y, orig_sr=sr, target_sr=cfg.sample_rate, res_type="soxr_hq")
        fixes.add("resampled")
    want = n_samples(cfg)
    if len(y) < want:
        y = np.pad(y, (0, want - len(y)))
        fixes.add("padded")
    elif len(y) > want:
        y = y[:want]
        fixes.add("trimmed")
    return np.ascontiguousarray(y, dtype=np.float32), fixes


def load_clips(paths: list[Path], cfg: MelsConfig, workers: int = 2, desc: str = "load",
               chunk: int = 64, bar: Optional[tqdm] = None) -> tuple[np.ndarray, Counter, dict[int, UnusableClip]]:
    """Load many clips in threads: (N, S) float32, the count of each fix, and {index: why} of the
    clips that could not be used (their rows stay zero; callers drop them).

    libsndfile and soxr release the GIL, so threads overlap the I/O. Each task loads `chunk`
    files: an SC09 clip takes ~0.1 ms to read, less than handing one file to a thread costs.
    """
    out = np.zeros((len(paths), n_samples(cfg)), dtype=np.float32)
    counts: Counter = Counter({k: 0 for k in FIXES})
    unusable: dict[int, UnusableClip] = {}

    def load_range(start: int) -> tuple[int, list[set[str]]]:
        fixes = []
        for i in range(start, min(start + chunk, len(paths))):
            try:
                out[i], f = load_clip(paths[i], cfg)
            except UnusableClip as e:
                unusable[i], f = e, set()
            fixes.append(f)
        return start, fixes

    own_bar = bar is None
    bar = bar if bar is not None else tqdm(total=len(paths), desc=desc, leave=False, unit="clip")
    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for _, fixes in pool.map(load_range, range(0, len(paths), chunk)):
                for f in fixes:
                    counts.update(f)
                bar.update(len(fixes))
    finally:
        if own_bar:
            bar.close()
    return out, counts, unusable


# ---------------------------------------------------------------- labels

def parse_sc09_name(path: str | os.PathLike) -> tuple[int, str]:
    """`Three_0a7c2a8d_nohash_1.wav` -> (3, "0a7c2a8d")."""
    name = Path(path).name
    m = _NAME_RE.match(name)
    digit = m["digit"].capitalize() if m else None
    if digit not in DIGITS:
        raise BadInputError(f"{path}: not an SC09 name; expected <Digit>_<speaker>_nohash_<n>.wav "
                         f"with Digit one of {', '.join(DIGITS)}")
    return DIGITS.index(digit), m["speaker"]


def list_splits(sc09_root: str | os.PathLike) -> dict[str, tuple[list[Path], list[tuple[int, str]]]]:
    """{split: (its WAVs in name order, their (digit, speaker))}: the one listing the mels and waves
    stages share, so both hold the same clips in the same order with the same labels. Fails on a
    missing split folder, an empty train split or a bad name before any audio is read."""
    sc09_root = Path(sc09_root)
    for split in SPLITS:
        if not (sc09_root / split).is_dir():
            raise MissingInputError(f"{sc09_root / split}: split folder missing; run the fetch_sc09 stage first")
    listed = {}
    for split in SPLITS:
        files = sorted((sc09_root / split).glob("*.wav"))
        if split == "train" and not files:
            raise BadInputError(f"{sc09_root / split}: no .wav files; the train split is needed for the stats")
        listed[split] = (files, [parse_sc09_name(f) for f in files])
    return listed


# ---------------------------------------------------------------- transform

class SpectrogramTransform(torch.nn.Module):
    """Batched log-magnitude (mel or linear) spectrogram; move it with `.to(device)`."""

    def __init__(self, cfg: MelsConfig):
        super().__init__()
        if cfg.representation not in ("mel", "linear"):
            raise ValueError(f"mels.representation is {cfg.representation!r}; use 'mel' or 'linear'")
        self.cfg = cfg
        self.n_fft = stft_n_fft(cfg)
        if cfg.hop_length >= self.n_fft:
            raise ValueError(f"mels: hop_length {cfg.hop_length} >= n_fft {self.n_fft} "
                             f"({cfg.representation} mode) skips samples and cannot be inverted; "
                             f"set mels.hop_length to at most {self.n_fft // 2}")
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        basis = torch.from_numpy(mel_basis(cfg)) if cfg.representation == "mel" else torch.empty(0)
        self.register_buffer("mel_basis", basis, persistent=False)  # (M, F) or empty

    def magnitude(self, audio: torch.Tensor) -> torch.Tensor:
        """|STFT| (B, n_fft // 2 + 1, n_frames): centred, zero-padded, last frame dropped."""
        spec = torch.stft(audio.to(self.window.dtype), self.n_fft, self.cfg.hop_length,
                          window=self.window, center=True, pad_mode="constant",
                          return_complex=True)  # (B, F, n_frames + 1)
        return spec[..., : self.cfg.n_frames].abs()

    def features(self, mag: torch.Tensor) -> torch.Tensor:
        """Linear magnitude (B, F, T) -> the representation's magnitude (B, n_bins, T)."""
        if self.cfg.representation == "mel":
            return torch.matmul(self.mel_basis, mag)  # (M, F) @ (B, F, T)
        return mag[:, :-1]  # drop the Nyquist bin: n_fft // 2 rows, a power of two

    def log_magnitude(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) audio -> (B, n_bins, n_frames) log(magnitude + 1e-6)."""
        if audio.dim() == 1:
            audio = audio[None]
        return torch.log(self.features(self.magnitude(audio)) + EPS)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.log_magnitude(audio)


# ---------------------------------------------------------------- normalisation

@dataclass
class SpecStats:
    mean: torch.Tensor  # (n_bins,)
    std: torch.Tensor  # (n_bins,)
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "config": self.config}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SpecStats":
        return cls(mean=d["mean"], std=d["std"], config=d.get("config", {}))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SpecStats":
        return cls.from_dict(torch.load(path, map_location="cpu", weights_only=False))


def fit_stats(log_mags: torch.Tensor, cfg: MelsConfig) -> SpecStats:
    """Per-frequency-bin mean/std over clips and frames of (N, n_bins, T) log magnitudes."""
    x = log_mags.double().transpose(0, 1).reshape(log_mags.shape[1], -1)  # (n_bins, N * T)
    mean, std = x.mean(dim=1), x.std(dim=1)
    # A bin that is always silent has std 0; treat it as unit std so it maps to 0, not to inf.
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    return SpecStats(mean.float(), std.float(), dataclasses.asdict(cfg))


def _as_stats(stats: SpecStats | dict) -> SpecStats:
    return stats if isinstance(stats, SpecStats) else SpecStats.from_dict(stats)


def _bcast(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # (n_bins,) -> broadcastable over (..., n_bins, T)
    return v.to(device=x.device, dtype=x.dtype)[:, None]


def _clip_std(s: SpecStats, clip_std: float | MelsConfig | None) -> float:
    if isinstance(clip_std, MelsConfig):
        return float(clip_std.clip_std)
    return float(clip_std if clip_std is not None else s.config.get("clip_std", 3.0))


def normalise(log_mag: torch.Tensor, stats: SpecStats | dict,
              clip_std: float | MelsConfig | None = None) -> torch.Tensor:
    """(..., n_bins, T) log magnitude -> [-1, 1]: standardise per bin, clip at clip_std, scale.

    clip_std: a number, a MelsConfig (its clip_std), or None for the value the stats were fitted
    with (stats.config["clip_std"]).
    """
    s = _as_stats(stats)
    clip_std = _clip_std(s, clip_std)
    z = (log_mag - _bcast(s.mean, log_mag)) / _bcast(s.std, log_mag)
    return z.clamp(-clip_std, clip_std) / clip_std


def denormalise(x: torch.Tensor, stats: SpecStats | dict,
                clip_std: float | MelsConfig | None = None) -> torch.Tensor:
    """The inverse of `normalise` (exact inside the clip range)."""
    s = _as_stats(stats)
    clip_std = _clip_std(s, clip_std)
    return x * clip_std * _bcast(s.std, x) + _bcast(s.mean, x)


# ---------------------------------------------------------------- extraction

def _log_mags(paths: list[Path], transform: SpectrogramTransform, workers: int,
              desc: str) -> tuple[torch.Tensor, Counter, dict[int, UnusableClip]]:
    """Load and transform in slices of 8 batches, so a split never sits in memory as audio.

    Returns the log magnitudes of the usable clips only (in order), the fix counts, and
    {index into paths: why} for the clips left out.
    """
    cfg = transform.cfg
    step = 8 * cfg.batch_size
    out: list[torch.Tensor] = []
    counts: Counter = Counter({k: 0 for k in FIXES})
    unusable: dict[int, UnusableClip] = {}
    with tqdm(total=len(paths), desc=desc, unit="clip") as bar:
        for start in range(0, len(paths), step):
            audio, c, bad = load_clips(paths[start: start + step], cfg, workers, bar=bar)  # (n, S)
            counts.update(c)
            unusable.update({start + i: e for i, e in bad.items()})
            if bad:
                audio = np.delete(audio, sorted(bad), axis=0)
            out += [transform.log_magnitude(torch.from_numpy(audio[i: i + cfg.batch_size]))
                    for i in range(0, len(audio), cfg.batch_size)]
    if not out:
        return torch.zeros(0, n_bins(cfg), cfg.n_frames), counts, unusable
    return torch.cat(out), counts, unusable  # (N_usable, n_bins, n_frames)


def extract_mels(sc09_root: str | os.PathLike, out_dir: str | os.PathLike, cfg: MelsConfig,
                 workers: int = 2) -> dict[str, Any]:
    """SC09 folders -> `out_dir/{train,valid,test}.pt` + `stats.pt`, all or nothing.

    The whole folder is built in a temp dir beside `out_dir` and renamed into place, so a crash
    never leaves a train.pt from one config next to a stats.pt from another. Unreadable, empty
    and silent clips are left out of x, labels, speakers and files alike, and counted in the
    summary; more than `cfg.max_failed_share` of them stops the stage before it writes.
    """
    sc09_root, out_dir = Path(sc09_root), Path(out_dir)
    t0 = time.perf_counter()
    transform = SpectrogramTransform(cfg)
    listed = list_splits(sc09_root)  # fail before any slow work
    skipped = Skipped("mels.max_failed_share", "re-fetch the data (`dvc repro -f fetch_sc09`) or delete those files")
    total = 0
    with torch.inference_mode():
        logs: dict[str, torch.Tensor] = {}
        meta: dict[str, dict[str, Any]] = {}
        fixes: dict[str, dict[str, int]] = {}
        for split in SPLITS:
            files, parsed = listed[split]
            logs[split], counts, unusable = _log_mags(files, transform, workers, desc=f"mels {split}")
            for i, e in sorted(unusable.items()):
                skipped.add(e.reason, f"{split}/{files[i].name}", str(e))
            keep = [i for i in range(len(files)) if i not in unusable]  # x holds these rows, in order
            meta[split] = {"labels": torch.tensor([parsed[i][0] for i in keep], dtype=torch.int64),
                           "speakers": [parsed[i][1] for i in keep],
                           "files": [files[i].name for i in keep]}
            fixes[split] = dict(counts)
            total += len(files)
            log.info("mels %s: %d clips, %d skipped, fixes %s", split, len(keep), len(unusable), dict(counts))
        skipped.check(total, cfg.max_failed_share, str(sc09_root))
        if len(logs["train"]) == 0:
            raise BadInputError(f"{sc09_root / 'train'}: no usable clip; the train split is needed for the stats")

        stats = fit_stats(logs["train"], cfg)
        with atomic_dir(out_dir) as tmp:
            for split in SPLITS:
                x = normalise(logs[split], stats, cfg.clip_std)[:, None].contiguous()  # (N, 1, F, T)
                torch.save({"x": x.float(), **meta[split]}, tmp / f"{split}.pt")
            torch.save(stats.to_dict(), tmp / "stats.pt")

    summary = {"clips": {s: len(meta[s]["files"]) for s in SPLITS},
               "fixes": {k: sum(f[k] for f in fixes.values()) for k in FIXES},
               "fixes_per_split": fixes,
               "shape": [1, n_bins(cfg), cfg.n_frames],
               **skipped.summary(total),
               "seconds": round(time.perf_counter() - t0, 3)}
    log.info("mels: %s", summary)
    return summary

