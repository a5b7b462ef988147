"""Sets of note windows made from the training windows without learning: what a generator must beat.

Each takes the training windows (M, L, 4), a count n and a numpy Generator, and returns (n, L, 4).
- `iid_notes`: every note drawn independently from all training notes, so the note-level
  distributions are right and everything between notes (key, register, tempo, motion) is lost.
  The floor for a claim of learned sequence structure.
- `shuffled_train`: training windows with their notes shuffled within each window: each window's
  own histograms (key, register, tempo) survive, the order between notes does not.
- `copy_train`: training windows verbatim. The ceiling on every distribution measure, and what the
  novelty test must fail.
Windows are drawn without replacement while the training set has enough of them.
"""

from __future__ import annotations

import numpy as np

BASELINES = ("iid_notes", "shuffled_train", "copy_train")


def _pick(train: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(train) == 0:
        raise ValueError("metrics.baselines: no training windows; rerun the notes stage")
    return rng.choice(len(train), n, replace=n > len(train))


def copy_train(train: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array(train[_pick(train, n, rng)])


def shuffled_train(train: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    windows = copy_train(train, n, rng)  # (n, L, 4)
    order = rng.permuted(np.broadcast_to(np.arange(windows.shape[1]), windows.shape[:2]), axis=1)  # (n, L)
    return np.take_along_axis(windows, order[..., None], axis=1)


def iid_notes(train: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    notes = np.asarray(train).reshape(-1, train.shape[-1])  # every note of every training window
    if len(notes) == 0:
        raise ValueError("metrics.baselines: no training windows; rerun the notes stage")
    return notes[rng.integers(len(notes), size=(n, train.shape[1]))]


def make(name: str, train: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Baseline `name` (one of BASELINES) drawn with `seed`."""
    makers = {"iid_notes": iid_notes, "shuffled_train": shuffled_train, "copy_train": copy_train}
    if name not in makers:
        raise ValueError(f"unknown baseline {name!r}; choose one of {list(makers)}")
    return makers[name](train, n, np.random.default_rng(seed))
