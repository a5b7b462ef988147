"""Note table -> fixed-length windows of notes, and the normalisation the GAN trains in.

This is the contract with the training code: a window is (seq_len, 4) raw features in the order
FEATURES; `NoteStats` maps them to roughly unit-normal values and back. Step and duration are
heavy-tailed (a few long rests and pedalled notes), so they are standardised in log space.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd
import torch

from ganaudio.errors import BadInputError, MissingInputError
from ganaudio.utils.io import read_json, write_json

FEATURES = ("pitch", "step", "duration", "velocity")
LOG_EPS = 1e-3
MIN_DURATION = 0.01  # s: shorter notes are inaudible and vanish at MIDI tick precision

Array = Union[np.ndarray, torch.Tensor]


def make_windows(table: pd.DataFrame, seq_len: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of `seq_len` consecutive notes inside each piece (never across), hop `stride`.

    Returns raw features float32 (N, seq_len, 4) and piece_ids (N,). Pieces shorter than
    seq_len give no window.
    """
    if seq_len < 1 or stride < 1:
        raise ValueError(f"seq_len and stride must be >= 1, got seq_len={seq_len}, stride={stride}")
    missing = [c for c in ("piece_id", *FEATURES) if c not in table.columns]
    if missing:
        raise ValueError(f"note table lacks columns {missing}; build it with ganaudio.data.notes")
    if "start" in table.columns:
        table = table.sort_values(["piece_id", "start"], kind="stable")
    else:
        table = table.sort_values("piece_id", kind="stable")
    feats = table[list(FEATURES)].to_numpy(np.float32)  # (M, 4)
    pieces = table["piece_id"].to_numpy()
    empty = (np.zeros((0, seq_len, len(FEATURES)), np.float32), np.zeros(0, pieces.dtype))
    if len(feats) < seq_len:
        return empty

    # Every note is a candidate first note; keep those whose window stays inside its piece.
    ids, first, counts = np.unique(pieces, return_index=True, return_counts=True)
    starts = [f + np.arange(0, n - seq_len + 1, stride) for f, n in zip(first, counts) if n >= seq_len]
    if not starts:
        return empty
    starts = np.concatenate(starts)
    view = np.lib.stride_tricks.sliding_window_view(feats, seq_len, axis=0)  # (M-L+1, 4, L)
    windows = np.ascontiguousarray(view[starts].transpose(0, 2, 1))  # (N, L, 4)
    return windows, pieces[starts]


@dataclass
class NoteStats:
    """Per-feature mean/std in the training space, plus what rendering needs (median step/duration)."""

    mean: list[float]  # (4,) in FEATURES order; step/duration in log(x + LOG_EPS)
    std: list[float]
    pitch_min: int = 0
    pitch_max: int = 127
    step_max: float = 60.0
    duration_max: float = 60.0
    median_step: float = 0.1
    median_duration: float = 0.25
    log_eps: float = LOG_EPS

    @classmethod
    def fit(cls, windows: np.ndarray) -> "NoteStats":
        """Fit on training windows (N, L, 4) only, so valid/test never leak into the scale."""
        raw = np.asarray(windows, np.float64).reshape(-1, len(FEATURES))
        if len(raw) == 0:
            raise ValueError("no training windows to fit note stats on; lower notes.seq_len or add data")
        x = _to_model_space(raw, LOG_EPS, np)
        std = np.maximum(x.std(axis=0), 1e-6)  # a constant feature must not divide by zero
        return cls(
            mean=[float(v) for v in x.mean(axis=0)], std=[float(v) for v in std],
            pitch_min=int(raw[:, 0].min()), pitch_max=int(raw[:, 0].max()),
            step_max=float(raw[:, 1].max()), duration_max=float(raw[:, 2].max()),
            median_step=float(np.median(raw[:, 1])), median_duration=float(np.median(raw[:, 2])),
        )

    def normalise(self, raw: Array) -> Array:
        """Raw features (..., 4) -> model space; numpy in numpy out, tensor in tensor out."""
        lib = torch if isinstance(raw, torch.Tensor) else np
        mean, std = self._vectors(raw)
        return (_to_model_space(raw, self.log_eps, lib) - mean) / std

    def denormalise(self, x: Array, clip_pitch: bool = True) -> Array:
        """Model space (..., 4) -> musically valid raw features (any input, even noise).

        Pitch rounded and clipped to the observed range (`clip_pitch=False`: only to MIDI's
        0..127, so an evaluation sees where the generator really puts its notes), step >= 0,
        duration >= MIN_DURATION, velocity rounded into 1..127; step/duration capped at the
        largest seen, so exp never overflows into inf.
        """
        lib = torch if isinstance(x, torch.Tensor) else np
        mean, std = self._vectors(x)
        y = x * std + mean
        lo, hi = (self.pitch_min, self.pitch_max) if clip_pitch else (0, 127)
        pitch = lib.clip(lib.round(y[..., 0]), lo, hi)
        step = lib.clip(lib.exp(lib.clip(y[..., 1], None, 30.0)) - self.log_eps, 0.0, self.step_max)
        dur = lib.clip(lib.exp(lib.clip(y[..., 2], None, 30.0)) - self.log_eps,
                       MIN_DURATION, max(self.duration_max, MIN_DURATION))
        vel = lib.clip(lib.round(y[..., 3]), 1, 127)
        return lib.stack([pitch, step, dur, vel], -1)

    def _vectors(self, like: Array):
        if isinstance(like, torch.Tensor):
            kw = {"dtype": like.dtype, "device": like.device}
            return torch.tensor(self.mean, **kw), torch.tensor(self.std, **kw)
        dtype = like.dtype if np.issubdtype(like.dtype, np.floating) else np.float64
        return np.asarray(self.mean, dtype), np.asarray(self.std, dtype)

    def to_json(self, path: str | Path) -> None:
        write_json(path, dataclasses.asdict(self))

    @classmethod
    def from_json(cls, path: str | Path) -> "NoteStats":
        data = read_json(path)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown or "mean" not in data or "std" not in data:
            raise BadInputError(f"{path}: not a NoteStats file (unknown keys {sorted(unknown)} or no mean/std); "
                             "rerun the notes stage")
        return cls(**data)


def _to_model_space(raw: Array, eps: float, lib) -> Array:
    """(..., 4): log the step and duration columns; pitch and velocity pass through."""
    if lib is np:
        raw = np.asarray(raw, raw.dtype if np.issubdtype(raw.dtype, np.floating) else np.float64)
    logged = lib.log(lib.clip(raw[..., 1:3], 0.0, None) + eps)
    cat = np.concatenate if lib is np else torch.cat
    return cat([raw[..., :1], logged, raw[..., 3:]], -1)


def raw_windows(notes_dir: Path, split: str, n: int | None = None, seed: int = 0) -> np.ndarray:
    """Raw windows (N, L, 4) of one split; at most n of them (a seeded choice) when n is given."""
    path = Path(notes_dir) / f"windows_{split}.npz"
    if not path.exists():
        raise MissingInputError(f"{path} is missing; run `dvc repro notes` first")
    with np.load(path) as f:
        windows = f["windows"]
    if n is not None and len(windows) > n:
        windows = windows[np.random.default_rng(seed).choice(len(windows), n, replace=False)]
    return windows.astype(np.float32)
