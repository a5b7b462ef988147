"""MGEval-style comparison of two sets of note windows (Yang & Lerch 2018).

Input everywhere is raw note arrays (N, L, 4) with FEATURES = (pitch, step, duration, velocity)
in MIDI units and seconds, as in data/processed/notes/windows_<split>.npz; `step` is the onset
minus the previous onset. Generated arrays may hold out-of-range values, so pitches are rounded
and clipped to 0..127, steps clipped at 0 and durations at 1 ms before any feature is taken.

Two kinds of distance, both exactly 0 for identical sets:
- scalar features (pitch range, mean |interval|, polyphony, note density, in-key ratio): one
  value per sample, and the distance between the two sets of values is 1 - the overlapping area
  of their Gaussian KDEs, evaluated on a shared grid. This is MGEval's overlap measure applied
  to the feature itself rather than to its intra-/inter-set pairwise distances: simpler, bounded
  in [0, 1], symmetric, and it reads directly as "how differently is this feature distributed".
- histogram features (pitch class, step, duration): aggregated over every note of a set,
  smoothed, and compared with KL(reference || generated) (`pitch_class_overlap`: 1 - overlap).

Key choice for `in_key_ratio`: the largest share of a sample's notes that falls in any of the 12
major diatonic scales. The 12 natural minor scales have the same pitch-class sets as their
relative majors, so this is the best fit over all 24 major/minor keys by in-scale count.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist

# Histogram bins (seconds). The first step bin, [0, 10 ms), holds chord notes.
STEP_EDGES = np.concatenate([[0.0], np.geomspace(0.01, 4.0, 11), [np.inf]])  # 12 bins
DURATION_EDGES = np.concatenate([[0.0], np.geomspace(0.02, 8.0, 12), [np.inf]])  # 13 bins
MIN_DURATION = 1e-3  # a zero-length note would sound at no onset, not even its own
LOG_FLOOR = 1e-3  # log-seconds floor for `spread` (1 ms): chord steps are exactly 0
KL_EPS = 1e-6
KDE_GRID = 1024
_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
# (12 keys, 12 pitch classes): 1 where the pitch class is in that key's major scale
SCALES = np.zeros((12, 12))
for _k in range(12):
    SCALES[_k, (_MAJOR + _k) % 12] = 1.0

SCALAR_FEATURES = ("pitch_range", "mean_abs_interval", "polyphony", "note_density", "in_key_ratio")


def check_windows(notes, name: str) -> np.ndarray:
    notes = np.asarray(notes, dtype=np.float64)
    if notes.ndim != 3 or notes.shape[-1] != 4 or notes.shape[0] == 0 or notes.shape[1] < 2:
        raise ValueError(f"metrics.music: {name} has shape {notes.shape}; pass raw note windows "
                         "(N>=1, L>=2, 4) with features (pitch, step, duration, velocity)")
    if not np.isfinite(notes).all():
        raise ValueError(f"metrics.music: {name} holds NaN or inf; drop those samples first")
    return notes


def row_histograms(index: np.ndarray, n_bins: int) -> np.ndarray:
    """Per-row counts of integer bin indices: (N, L) -> (N, n_bins)."""
    n = index.shape[0]
    flat = (np.arange(n)[:, None] * n_bins + index).ravel()
    return np.bincount(flat, minlength=n * n_bins).reshape(n, n_bins).astype(np.float64)


def _polyphony(onset: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mean number of notes sounding at each note onset, the note itself included: (N, L) -> (N,).

    Sounding at t means onset <= t < end. Since end > onset, #sounding(t) =
    #{onset <= t} - #{end <= t}, two searchsorted calls. Rows are made one sorted array by
    adding a per-row offset larger than any row's span, so the whole batch is two calls.
    """
    n, length = onset.shape
    offset = (np.arange(n) * (end.max() - onset.min() + 1.0))[:, None]
    starts = np.sort(onset, axis=1) + offset  # (N, L)
    ends = np.sort(end, axis=1) + offset
    query = onset + offset
    started = np.searchsorted(starts.ravel(), query.ravel(), side="right")
    ended = np.searchsorted(ends.ravel(), query.ravel(), side="right")
    return (started - ended).reshape(n, length).mean(axis=1)


def clean_notes(notes, name: str = "notes") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked windows (N, L, 4) -> pitch (N, L) int64 in 0..127, step >= 0 and duration >= 1 ms (N, L)."""
    notes = check_windows(notes, name)
    pitch = np.clip(np.rint(notes[..., 0]), 0, 127).astype(np.int64)
    return pitch, np.maximum(notes[..., 1], 0.0), np.maximum(notes[..., 2], MIN_DURATION)


def note_features(notes) -> dict[str, np.ndarray]:
    """Per-sample features of note windows (N, L, 4): histograms (N, B) as counts, scalars (N,)."""
    pitch, step, duration = clean_notes(notes)
    pitch = pitch.astype(np.float64)  # (N, L)
    onset = np.cumsum(step, axis=1) - step[:, :1]  # first note at 0
    end = onset + duration
    pitch_class = row_histograms(pitch.astype(np.int64) % 12, 12)  # (N, 12)
    length = pitch.shape[1]
    span = end.max(axis=1) - onset[:, 0]
    return {
        "pitch_class": pitch_class,
        "step": row_histograms(np.digitize(step, STEP_EDGES[1:-1]), len(STEP_EDGES) - 1),
        "duration": row_histograms(np.digitize(duration, DURATION_EDGES[1:-1]), len(DURATION_EDGES) - 1),
        "pitch_range": pitch.max(axis=1) - pitch.min(axis=1),
        "mean_abs_interval": np.abs(np.diff(pitch, axis=1)).mean(axis=1),
        "polyphony": _polyphony(onset, end),
        "note_density": length / np.maximum(span, MIN_DURATION),
        "in_key_ratio": (pitch_class @ SCALES.T).max(axis=1) / length,
    }


def key_statistics(notes, smoothing: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """How a set's windows use keys: (key frequencies (12,), key-relative pitch-class frequencies (12,)).

    Each window's key is the major scale holding most of its notes (as `in_key_ratio`); its
    pitch-class counts are rotated so the key's tonic is class 0 and summed over windows.
    `smoothing` is added to every count, so no class has probability 0 (a log stays finite).
    """
    pitch_class = note_features(notes)["pitch_class"]  # (N, 12)
    keys = (pitch_class @ SCALES.T).argmax(1)  # (N,)
    rel = np.stack([np.roll(h, -k) for h, k in zip(pitch_class, keys)])  # tonic first
    key_freq = np.bincount(keys, minlength=12) + smoothing
    profile = rel.sum(0) + smoothing
    return key_freq / key_freq.sum(), profile / profile.sum()


def _normalise(counts: np.ndarray) -> np.ndarray:
    p = counts / max(counts.sum(), 1.0) + KL_EPS
    return p / p.sum()


def kl_divergence(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """KL(p || q) of two count vectors after eps smoothing: finite even where q has empty bins."""
    p, q = _normalise(p_counts), _normalise(q_counts)
    return float(np.sum(p * np.log(p / q)))


def histogram_overlap_distance(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """1 - sum(min(p, q)) of two normalised count vectors: 0 identical, 1 disjoint."""
    p = p_counts / max(p_counts.sum(), 1.0)
    q = q_counts / max(q_counts.sum(), 1.0)
    return float(max(0.0, 1.0 - np.minimum(p, q).sum()))


def _kde(values: np.ndarray, grid: np.ndarray, bandwidth: float, chunk: int = 4096) -> np.ndarray:
    density = np.zeros_like(grid)
    for i in range(0, len(values), chunk):
        z = (grid[None, :] - values[i:i + chunk, None]) / bandwidth  # (chunk, G)
        density += np.exp(-0.5 * z * z).sum(axis=0)
    return density


def kde_overlap_distance(a, b, grid_points: int = KDE_GRID) -> float:
    """1 - overlapping area of the Gaussian KDEs of two 1-D samples; symmetric, in [0, 1].

    Bandwidth is Scott's rule per set, floored at 1% of the pooled range: a set of identical
    values (a collapsed generator, or polyphony that is always 1) has zero variance, where
    scipy's gaussian_kde fails. Both densities are normalised on the shared grid, so identical
    sets give exactly 0 however much tail the grid cuts off.
    """
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    span = hi - lo
    if span == 0:
        return 0.0  # both sets are the same single value
    floor = span / 100

    def scott(x):
        return max(x.std(ddof=1) * len(x) ** -0.2 if len(x) > 1 else 0.0, floor)

    bw_a, bw_b = scott(a), scott(b)
    pad = 4 * max(bw_a, bw_b)
    grid = np.linspace(lo - pad, hi + pad, grid_points)
    p, q = _kde(a, grid, bw_a), _kde(b, grid, bw_b)
    p, q = p / p.sum(), q / q.sum()
    return float(max(0.0, 1.0 - np.minimum(p, q).sum()))


def distances(generated, reference) -> dict[str, float]:
    """Distances between a generated and a reference set of note windows; 0 means alike.

    Histogram keys (`pitch_class_kl`, `step_hist`, `duration_hist`) are KL(reference ||
    generated) of the aggregate histograms, unbounded; `pitch_class_overlap` and the scalar
    features are 1 - overlapping area, in [0, 1].
    """
    gen = note_features(check_windows(generated, "generated"))
    ref = note_features(check_windows(reference, "reference"))
    out = {
        "pitch_class_kl": kl_divergence(ref["pitch_class"].sum(0), gen["pitch_class"].sum(0)),
        "pitch_class_overlap": histogram_overlap_distance(ref["pitch_class"].sum(0),
                                                          gen["pitch_class"].sum(0)),
        "step_hist": kl_divergence(ref["step"].sum(0), gen["step"].sum(0)),
        "duration_hist": kl_divergence(ref["duration"].sum(0), gen["duration"].sum(0)),
    }
    for name in SCALAR_FEATURES:
        out[name] = kde_overlap_distance(gen[name], ref[name])
    return out


def spread(notes, max_samples: int = 1000, seed: int = 0) -> dict[str, float]:
    """How varied a set is, to compare a generator with real data (mode collapse shows as low values).

    `step_std`, `duration_std`: std over all notes of log-seconds (floored at 1 ms, since chord
    steps are 0), so they measure rhythmic variety independent of tempo. `diversity`: mean
    pairwise total-variation distance between samples' pitch-class, step and duration
    histograms, averaged over the three; in [0, 1], 0 when every sample looks the same.
    Pairs are taken among at most `max_samples` samples (a seeded subset) to bound the cost.
    """
    notes = check_windows(notes, "notes")
    log_step = np.log(np.maximum(notes[..., 1], LOG_FLOOR))
    log_duration = np.log(np.maximum(notes[..., 2], LOG_FLOOR))
    if len(notes) > max_samples:
        pick = np.random.default_rng(seed).choice(len(notes), max_samples, replace=False)
        subset = notes[np.sort(pick)]
    else:
        subset = notes
    feats = note_features(subset)
    if len(subset) < 2:
        diversity = 0.0
    else:
        tv = [0.5 * pdist(h / h.sum(axis=1, keepdims=True), "cityblock").mean()
              for h in (feats["pitch_class"], feats["step"], feats["duration"])]
        diversity = float(np.mean(tv))
    return {"step_std": float(log_step.std()), "duration_std": float(log_duration.std()),
            "diversity": diversity}
