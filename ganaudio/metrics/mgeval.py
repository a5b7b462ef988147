"""MGEval's per-window features and its intra-/inter-set comparison (Yang & Lerch 2020).

Features, one value or vector per window of notes (N, L, 4) (see `metrics.music` for the layout):
- pitch: `used_pitches` (distinct pitches), `pitch_range`, `mean_abs_interval` (MGEval's average
  pitch interval, consecutive notes), `pitch_class_hist` (12), `pitch_class_transition` (12 x 12,
  consecutive notes);
- rhythm: `mean_ioi` (average inter-onset interval over every step of the window, seconds), `ioi_hist` (12 step bins, as
  `metrics.music.STEP_EDGES`), `note_length_hist` (13 duration bins, `DURATION_EDGES`),
  `note_length_transition` (13 x 13, consecutive notes).
- order (not in MGEval; added because every feature above except the interval and the transition
  matrices is blind to the order of a window's notes, and shuffling a window barely moves those):
  `pitch_autocorrelation` (lags 1..8 of the pitch sequence: an Alberti bass or an arpeggio repeats
  with a period) and `rhythm_pattern` (shares of the 16 chord/new-onset patterns of 4 consecutive
  steps, chord meaning a step under CHORD_STEP).
Histograms and transition matrices are shares (they sum to 1), so windows of any length compare.
Two departures from MGEval, which works on bars of a score with a known tempo: note lengths are
binned in seconds on the metrics' log grid, not in beats, and MGEval's per-bar note count is
left out (every window holds exactly L notes, so it carries no information here).

The comparison is MGEval's: per feature, the Euclidean distances between every pair of windows
of the target set (intra-set) and between every generated and every target window (inter-set);
the overlapped area (OA) and KL(intra || inter) of their KDEs (`metrics.kde`). OA near 1: a
generated window sits among the targets as closely and as variedly as the targets among
themselves. The intra-set distances of the generated set are compared with the target's too
(`intra_overlap`): a collapsed set that sits at the targets' centre can score a fair OA, but its
own windows are all alike, which that overlap exposes.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist, pdist

from ganaudio.metrics.kde import overlap_and_kl
from ganaudio.metrics.music import DURATION_EDGES, STEP_EDGES, clean_notes, row_histograms

FEATURES = ("used_pitches", "pitch_range", "mean_abs_interval", "pitch_class_hist", "pitch_class_transition",
            "mean_ioi", "ioi_hist", "note_length_hist", "note_length_transition",
            "pitch_autocorrelation", "rhythm_pattern")
# The features that change when a window's notes are reordered; every other one is order-free.
# Decided by test (tests/metrics/test_mgeval.py shuffles real-like windows and pins both lists).
ORDER_FEATURES = ("mean_abs_interval", "pitch_class_transition", "note_length_transition",
                  "pitch_autocorrelation", "rhythm_pattern")
# The distribution-valued features: their concatenation is a window's fingerprint for nearest neighbours.
VECTOR_FEATURES = ("pitch_class_hist", "pitch_class_transition", "ioi_hist", "note_length_hist",
                   "note_length_transition")
CHORD_STEP = 0.05  # s: real steps are bimodal, chord notes below ~40 ms and melody notes above ~60 ms
AUTOCORRELATION_LAGS = 8
PATTERN_STEPS = 4
N_STEP_BINS = len(STEP_EDGES) - 1
N_LENGTH_BINS = len(DURATION_EDGES) - 1


def _shares(index: np.ndarray, n_bins: int) -> np.ndarray:
    """(N, K) integer classes -> (N, n_bins) shares of each class per row."""
    return row_histograms(index, n_bins) / index.shape[1]


def _autocorrelation(pitch: np.ndarray, lags: int) -> np.ndarray:
    """(N, L) -> (N, lags): correlation of the pitch sequence with itself shifted by 1..lags notes."""
    x = pitch - pitch.mean(1, keepdims=True)
    var = np.maximum((x * x).mean(1), 1e-9)  # a one-pitch window has no correlation to speak of: 0
    zero = np.zeros(len(x))  # a lag as long as the window has no pairs
    return np.stack([(x[:, :-k] * x[:, k:]).mean(1) / var if k < x.shape[1] else zero
                     for k in range(1, lags + 1)], 1)


def _patterns(onset: np.ndarray, steps: int) -> np.ndarray:
    """(N, L) 0/1 chord-or-onset flags -> (N, L - steps + 1) pattern codes of `steps` consecutive flags."""
    width = onset.shape[1] - steps + 1
    return sum(onset[:, i:i + width] << (steps - 1 - i) for i in range(steps))


def window_features(notes) -> dict[str, np.ndarray]:
    """{feature: (N, D)} for windows (N, L, 4); scalars have D = 1."""
    pitch, step, duration = clean_notes(notes)  # (N, L) each
    pc = pitch % 12
    length_class = np.digitize(duration, DURATION_EDGES[1:-1])  # (N, L) in 0..12
    # Every step, the first one's (to a note before the window) included: a histogram that left
    # the first out would change when the notes are shuffled, and so not be order-free.
    ioi = step
    return {
        "used_pitches": (np.diff(np.sort(pitch, axis=1), axis=1) != 0).sum(1, keepdims=True) + 1.0,
        "pitch_range": (pitch.max(1) - pitch.min(1))[:, None].astype(np.float64),
        "mean_abs_interval": np.abs(np.diff(pitch, axis=1)).mean(1, keepdims=True),
        "pitch_class_hist": _shares(pc, 12),
        "pitch_class_transition": _shares(pc[:, :-1] * 12 + pc[:, 1:], 144),
        "mean_ioi": ioi.mean(1, keepdims=True),
        "ioi_hist": _shares(np.digitize(ioi, STEP_EDGES[1:-1]), N_STEP_BINS),
        "note_length_hist": _shares(length_class, N_LENGTH_BINS),
        "note_length_transition": _shares(length_class[:, :-1] * N_LENGTH_BINS + length_class[:, 1:],
                                          N_LENGTH_BINS ** 2),
        "pitch_autocorrelation": _autocorrelation(pitch.astype(np.float64), AUTOCORRELATION_LAGS),
        "rhythm_pattern": _shares(_patterns((step[:, 1:] >= CHORD_STEP).astype(np.int64), PATTERN_STEPS),
                                  2 ** PATTERN_STEPS),
    }


def fingerprint(features: dict[str, np.ndarray]) -> np.ndarray:
    """(N, sum of D) the vector features side by side: what 'nearest window' is measured on."""
    return np.concatenate([features[name] for name in VECTOR_FEATURES], axis=1)


class TargetSet:
    """The set every other set is compared with; its features and intra-set distances are computed once."""

    def __init__(self, notes):
        if len(notes) < 2:
            raise ValueError(f"metrics.mgeval: the target set has {len(notes)} window(s); intra-set distances "
                             "need at least 2 (use a larger split or notes.seq_len)")
        self.features = window_features(notes)
        self.intra = {name: pdist(f) for name, f in self.features.items()}  # (N(N-1)/2,) per feature

    def compare(self, notes) -> dict[str, dict[str, float]]:
        """Per feature: overlap_area, kl (target intra vs inter), intra_overlap, and mean distances."""
        gen = window_features(notes)
        out = {}
        for name in FEATURES:
            inter = cdist(gen[name], self.features[name]).ravel()  # (N_gen · N_target,)
            oa, kl = overlap_and_kl(self.intra[name], inter)
            intra_gen = pdist(gen[name]) if len(gen[name]) > 1 else np.zeros(1)
            intra_oa, _ = overlap_and_kl(self.intra[name], intra_gen)
            out[name] = {"overlap_area": oa, "kl": kl, "intra_overlap": intra_oa,
                         "inter_mean": float(inter.mean()), "intra_mean": float(intra_gen.mean()),
                         "target_intra_mean": float(self.intra[name].mean())}
        return out
