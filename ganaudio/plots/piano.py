"""Piano-roll and note-statistics PNGs, for people to look at generated and real notes side by side.

Figures are built with `matplotlib.figure.Figure` (the Agg canvas), never pyplot, so plotting from
a worker or a headless stage needs no display and leaks no global figure state.
"""

from __future__ import annotations

import math
import os
from typing import Sequence, Union

import numpy as np
import pandas as pd
import pretty_midi
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from ganaudio.utils.io import atomic_path

Notes = Union[np.ndarray, pretty_midi.PrettyMIDI]
PITCH_CLASSES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def note_spans(notes: Notes) -> np.ndarray:
    """(L, 4) raw features or a PrettyMIDI -> (L, 4) rows of (start, end, pitch, velocity)."""
    if isinstance(notes, pretty_midi.PrettyMIDI):
        rows = [(n.start, n.end, n.pitch, n.velocity)
                for inst in notes.instruments if not inst.is_drum for n in inst.notes]
        return np.array(rows, np.float64).reshape(-1, 4)
    x = np.asarray(notes, np.float64)
    if x.ndim != 2 or x.shape[1] != 4:
        raise ValueError(f"notes must be (L, 4) = (pitch, step, duration, velocity), got {x.shape}")
    start = np.cumsum(np.maximum(x[:, 1], 0))
    return np.stack([start, start + np.maximum(x[:, 2], 0), x[:, 0], x[:, 3]], 1)


def draw_piano_roll(ax, notes: Notes, title: str = "") -> None:
    spans = note_spans(notes)
    if len(spans):
        start, end, pitch, vel = spans.T
        boxes = [[(s, p - 0.4), (e, p - 0.4), (e, p + 0.4), (s, p + 0.4)]
                 for s, e, p in zip(start, end, pitch)]
        coll = PolyCollection(boxes, array=vel, cmap="viridis", linewidths=0)
        coll.set_clim(1, 127)
        ax.add_collection(coll)
        ax.set_xlim(0, max(end.max(), 1e-3))
        ax.set_ylim(pitch.min() - 2, pitch.max() + 2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title, fontsize=9)


def plot_piano_roll(notes: Notes, path: str | os.PathLike, title: str = "") -> None:
    """One piano roll (colour = velocity) as a PNG."""
    fig = Figure(figsize=(10, 4))
    draw_piano_roll(fig.add_subplot(), notes, title)
    _save(fig, path)


def plot_piano_rolls(notes_list: Sequence[Notes], path: str | os.PathLike,
                     titles: Sequence[str] | None = None) -> None:
    """A grid of piano rolls, e.g. real vs generated windows or an interpolation path."""
    n = len(notes_list)
    if n == 0:
        raise ValueError("plot_piano_rolls needs at least one set of notes")
    titles = list(titles) if titles is not None else [""] * n
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.5 * cols, 2.8 * rows))
    for i, (notes, title) in enumerate(zip(notes_list, titles + [""] * (n - len(titles)))):
        draw_piano_roll(fig.add_subplot(rows, cols, i + 1), notes, title)
    fig.tight_layout()
    _save(fig, path)


def plot_note_histograms(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Histograms of pitch, pitch class, step, duration and velocity of a note table."""
    fig = Figure(figsize=(16, 3.2))
    axes = fig.subplots(1, 5)
    pitch = table["pitch"].to_numpy()
    axes[0].hist(pitch, bins=np.arange(pitch.min(), pitch.max() + 2) - 0.5 if len(pitch) else 10)
    axes[0].set_title("pitch")
    axes[1].bar(PITCH_CLASSES, np.bincount(pitch.astype(int) % 12, minlength=12))
    axes[1].set_title("pitch class")
    for ax, col in zip(axes[2:4], ["step", "duration"]):
        v = table[col].to_numpy()
        ax.hist(np.log10(v + 1e-3), bins=50)
        ax.set_title(f"log10({col} s + 1e-3)")
    axes[4].hist(table["velocity"].to_numpy(), bins=np.arange(0, 129, 4))
    axes[4].set_title("velocity")
    fig.tight_layout()
    _save(fig, path)


def _save(fig: Figure, path: str | os.PathLike) -> None:
    FigureCanvasAgg(fig)
    fmt = os.path.splitext(str(path))[1].lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=100)


def plot_evaluation(result: dict, path: str | os.PathLike) -> None:
    """The evaluation table at a glance: each row's structure and order scores side by side (mean ±
    std over draws; copy-flagged rows hatched) and its overlapped area per MGEval feature."""
    rows = list(result["rows"])
    flagged = set(result.get("flagged", []))
    features = list(result["rows"][rows[0]]["mgeval"])
    overlap = np.array([[result["rows"][r]["mgeval"][f]["overlap_area"]["mean"] for f in features] for r in rows])
    fig = Figure(figsize=(14, 0.55 * len(rows) + 2.5))
    ax_score, ax_oa = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 2]})
    y = np.arange(len(rows))
    for offset, key, colour, label in ((-0.2, "structure_score", "tab:blue", "structure (0 = iid_notes)"),
                                       (0.2, "order_score", "tab:orange", "order (0 = shuffled_train)")):
        score = [result["rows"][r][key] for r in rows]
        ax_score.barh(y + offset, [s["mean"] or 0.0 for s in score], height=0.4, xerr=[s["std"] or 0.0 for s in score],
                      color=colour, label=label)
        for i, (r, s) in enumerate(zip(rows, score)):
            if r in flagged:
                ax_score.barh(y[i] + offset, s["mean"] or 0.0, height=0.4, fill=False, hatch="//", edgecolor="tab:red")
            ax_score.text(s["mean"] or 0.0, y[i] + offset, f" {_num(s['mean'])}", va="center", fontsize=7)
    ax_score.set_yticks(y, [f"{r} (copies)" if r in flagged else r for r in rows])
    ax_score.invert_yaxis()
    ax_score.axvline(0, color="k", linewidth=0.8)
    ax_score.axvline(1, color="k", linewidth=0.8, linestyle=":")
    ax_score.legend(fontsize=7, loc="lower left")
    ax_score.set_title(f"scores vs {result['split']} (1 = reference: real windows)", fontsize=9)
    image = ax_oa.imshow(overlap, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax_oa.set_xticks(np.arange(len(features)), features, rotation=35, ha="right", fontsize=8)
    ax_oa.set_yticks(y, rows)
    for (i, j), v in np.ndenumerate(overlap):
        ax_oa.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w" if v < 0.6 else "k")
    ax_oa.set_title("overlapped area of intra-set (target) and inter-set distances", fontsize=9)
    fig.colorbar(image, ax=ax_oa, fraction=0.03)
    fig.tight_layout()
    _save(fig, path)


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def plot_side_by_side(real: Sequence[Notes], generated: Sequence[Notes], path: str | os.PathLike,
                      seconds: float | None = None) -> None:
    """Real windows in the left column, generated ones in the right, every panel on one time axis
    (0..`seconds`, default the longest window) and one pitch axis, so lengths and registers compare by eye."""
    n = max(len(real), len(generated))
    if n == 0:
        raise ValueError("plot_side_by_side needs at least one window")
    spans = [note_spans(w) for w in (*real, *generated)]
    seconds = seconds or max(float(s[:, 1].max()) for s in spans if len(s))
    lo = min(float(s[:, 2].min()) for s in spans if len(s)) - 2
    hi = max(float(s[:, 2].max()) for s in spans if len(s)) + 2
    fig = Figure(figsize=(14, 2.2 * n))
    axes = fig.subplots(n, 2, squeeze=False, sharex=True, sharey=True)
    for col, (who, windows) in enumerate((("real", real), ("generated", generated))):
        for i in range(n):
            ax = axes[i, col]
            if i < len(windows):
                draw_piano_roll(ax, windows[i], f"{who} {i}")
            ax.set_xlim(0, seconds)
            ax.set_ylim(lo, hi)
    fig.tight_layout()
    _save(fig, path)
