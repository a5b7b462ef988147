"""Does a generated window copy the training set? Verbatim runs and nearest training windows.

A window "copies" when it holds a run of consecutive notes that occurs verbatim in a training
window. Notes match on their pitch and on their step class: a chord note (step < CHORD_STEP,
50 ms) or a new onset. The step is only split at 50 ms because real steps are bimodal with an
empty valley there (chord notes with timing jitter below ~40 ms, melody notes above ~60 ms): a
finer grid would let a model that copies a melody through its own time bins, or with rubato,
escape detection, since its steps would no longer equal the training steps to the bin.

Transposition. The copy test is transposition-invariant: a run matches on its pitch *intervals*
(and step classes), so a training passage moved up a third counts as a copy of it. The absolute
version (pitches themselves) is reported beside it; a verbatim run is found by both, a
transposed one only by the invariant test. A run of n notes is n - 1 tokens, one per pair of
consecutive notes (the interval or both pitches, and the second note's step class), so both
versions measure the same thing: how many consecutive notes agree.

The index hashes every n-gram of training tokens with a polynomial rolling hash (mod 2^64,
random odd base: collisions are ~1e-9 likely even for millions of n-grams) and finds each
window's longest run by a binary search over n, run for all windows at once (a run of n tokens
holds runs of every shorter length, so "has a run of n" is monotone in n). Each n's sorted
training hashes are cached, and the searches of different windows share the n they test.

Nearest training window: the Euclidean distance from a window's MGEval fingerprint
(`metrics.mgeval.fingerprint`) to the closest training window's. Real held-out windows give
the yardstick: a generator far closer to its training windows than test windows are memorises.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy.spatial.distance import cdist

from ganaudio.metrics.mgeval import CHORD_STEP, fingerprint, window_features
from ganaudio.metrics.music import clean_notes

COPY_RUN = 16  # notes: a verbatim training run this long counts as a copy
_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so multiplication mod 2^64 loses no information
_CACHE = 64  # n-gram sets kept per index (~1-3 MB each on the embedded training set)


def tokens(notes, transpose_invariant: bool = True) -> np.ndarray:
    """(N, L, 4) windows -> (N, L - 1) int64: one token per pair of consecutive notes."""
    pitch, step, _ = clean_notes(notes)
    onset = (step[:, 1:] >= CHORD_STEP).astype(np.int64)  # (N, L-1): 0 chord note, 1 new onset
    if transpose_invariant:
        return (pitch[:, 1:] - pitch[:, :-1] + 127) * 2 + onset  # interval in -127..127
    return (pitch[:, :-1] * 128 + pitch[:, 1:]) * 2 + onset


def _prefix_hashes(tok: np.ndarray) -> np.ndarray:
    """(R, T) tokens -> (R, T + 1) uint64 prefix hashes: P[:, i+1] = P[:, i]·B + tok[:, i] + 1."""
    prefix = np.zeros((tok.shape[0], tok.shape[1] + 1), np.uint64)
    shifted = tok.astype(np.uint64) + np.uint64(1)
    for i in range(tok.shape[1]):
        prefix[:, i + 1] = prefix[:, i] * _BASE + shifted[:, i]
    return prefix


def _grams(prefix: np.ndarray, n: int) -> np.ndarray:
    """(R, T + 1) prefix hashes -> (R, T - n + 1) hashes of every n-gram."""
    power = np.uint64(pow(int(_BASE), n, 1 << 64))
    return prefix[:, n:] - prefix[:, :-n] * power


class VerbatimIndex:
    """Every n-gram of the training windows' tokens, for the longest verbatim run of any window."""

    def __init__(self, train_notes, transpose_invariant: bool = True):
        self.transpose_invariant = transpose_invariant
        self._prefix = _prefix_hashes(tokens(train_notes, transpose_invariant))  # (M, T + 1)
        self._sets: OrderedDict[int, np.ndarray] = OrderedDict()

    def _train_grams(self, n: int) -> np.ndarray:
        if n not in self._sets:
            width = self._prefix.shape[1] - 1
            self._sets[n] = np.unique(_grams(self._prefix, n)) if n <= width else np.zeros(0, np.uint64)
            if len(self._sets) > _CACHE:
                self._sets.popitem(last=False)
        self._sets.move_to_end(n)
        return self._sets[n]

    def _has_run(self, prefix: np.ndarray, n: int) -> np.ndarray:
        """(R,) whether each row holds an n-token run seen in training."""
        known = self._train_grams(n)
        if len(known) == 0:
            return np.zeros(len(prefix), bool)
        grams = _grams(prefix, n)  # (R, T - n + 1)
        at = np.minimum(np.searchsorted(known, grams), len(known) - 1)
        return (known[at] == grams).any(axis=1)

    def longest_run(self, notes) -> np.ndarray:
        """(N,) int: the most consecutive notes of each window found verbatim in a training window (>= 1)."""
        prefix = _prefix_hashes(tokens(notes, self.transpose_invariant))  # (N, T + 1)
        lo = np.zeros(len(prefix), np.int64)  # a run of lo tokens is known present (0 trivially)
        hi = np.full(len(prefix), prefix.shape[1], np.int64)  # a run of hi tokens is known absent (T + 1)
        while (active := hi - lo > 1).any():
            mid = (lo + hi) // 2
            for n in np.unique(mid[active]):
                rows = np.flatnonzero(active & (mid == n))
                found = self._has_run(prefix[rows], int(n))
                lo[rows[found]] = n
                hi[rows[~found]] = n
        return lo + 1  # k tokens span k + 1 notes


class NoveltyIndex:
    """The training windows, indexed for both verbatim tests and for nearest-window distances."""

    def __init__(self, train_notes, copy_run: int = COPY_RUN):
        self.copy_run = copy_run
        self.invariant = VerbatimIndex(train_notes, transpose_invariant=True)
        self.absolute = VerbatimIndex(train_notes, transpose_invariant=False)
        self._train_fingerprints = fingerprint(window_features(train_notes))  # (M, D)

    def nearest_distance(self, notes) -> np.ndarray:
        """(N,) distance from each window's fingerprint to the closest training window's."""
        return cdist(fingerprint(window_features(notes)), self._train_fingerprints).min(axis=1)

    def measure(self, notes) -> dict[str, float]:
        """Per-set novelty figures; `copy_share` is the share of windows with a run >= copy_run notes."""
        runs = self.invariant.longest_run(notes)
        runs_abs = self.absolute.longest_run(notes)
        nearest = self.nearest_distance(notes)
        return {
            "copy_share": float(np.mean(runs >= self.copy_run)),
            "copy_share_absolute": float(np.mean(runs_abs >= self.copy_run)),
            "longest_run_median": float(np.median(runs)),
            "longest_run_max": float(runs.max()),
            "longest_run_absolute_median": float(np.median(runs_abs)),
            "nearest_train_median": float(np.median(nearest)),
        }
