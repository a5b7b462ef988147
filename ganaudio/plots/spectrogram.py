"""Spectrogram PNGs: one image, a grid, and real-vs-generated rows per digit.

Inputs are normalised spectrograms (bins, frames) in [-1, 1], drawn with a fixed colour range so
images are comparable across plots and runs. Built on `matplotlib.figure.Figure` (Agg canvas),
never pyplot: no display needed, no global figure state.
"""

from __future__ import annotations

import math
import os
from typing import Optional, Sequence

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ganaudio.utils.io import atomic_path

CMAP = "magma"
VMIN, VMAX = -1.0, 1.0


def _np(x) -> np.ndarray:
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, np.float32)


def _image(x) -> np.ndarray:
    """(bins, frames) or (1, bins, frames) -> (bins, frames)."""
    a = _np(x)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise ValueError(f"expected a (bins, frames) spectrogram, got shape {a.shape}")
    return a


def _draw(ax, x, title: str = "") -> None:
    ax.imshow(_image(x), origin="lower", aspect="auto", cmap=CMAP, vmin=VMIN, vmax=VMAX,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def _blank(ax) -> None:
    # An empty slot: no frame or ticks, but the axes stay so a row label on it still shows.
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _save(fig: Figure, path: str | os.PathLike) -> None:
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def plot_spectrogram(x, path: str | os.PathLike, title: str = "") -> None:
    """One (bins, frames) spectrogram with a colour bar, low frequencies at the bottom."""
    fig = Figure(figsize=(4, 3.2), layout="constrained")
    ax = fig.add_subplot()
    _draw(ax, x, title)
    ax.set_xlabel("frame")
    ax.set_ylabel("bin")
    fig.colorbar(ax.images[0], ax=ax, label="normalised log magnitude")
    _save(fig, path)


def plot_spectrogram_grid(xs, path: str | os.PathLike, titles: Optional[Sequence[str]] = None,
                          ncols: int = 8) -> None:
    """(N, 1, bins, frames) as a grid of `ncols` columns."""
    grid(xs, path, _draw, "spectrograms", titles, ncols, cell=(1.6, 1.5))


def grid(items, path: str | os.PathLike, draw, what: str, titles: Optional[Sequence[str]], ncols: int,
         cell: tuple[float, float]) -> None:
    """Items drawn by `draw(ax, item, title)` in a grid of `ncols` columns, each cell `cell` inches."""
    items = _np(items)
    n = len(items)
    if n == 0:
        raise ValueError(f"{path}: nothing to plot (0 {what})")
    if titles is not None and len(titles) != n:
        raise ValueError(f"{path}: {len(titles)} titles for {n} {what}")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(cell[0] * ncols, cell[1] * nrows), layout="constrained")
    for i, ax in enumerate(fig.subplots(nrows, ncols, squeeze=False).flat):
        if i < n:
            draw(ax, items[i], titles[i] if titles is not None else "")
        else:
            ax.axis("off")
    _save(fig, path)


def plot_digit_grid(real, real_labels, fake, fake_labels, path: str | os.PathLike,
                    per_digit: int = 4) -> None:
    """One row per digit 0..9: `per_digit` real spectrograms, then `per_digit` generated ones.

    Generated clips carry the labels a classifier gave them, so an empty right half of a row
    says the generator (as far as the classifier can tell) never produces that digit.
    """
    real, fake = _np(real), _np(fake)
    real_labels, fake_labels = _np(real_labels).astype(int), _np(fake_labels).astype(int)
    if len(real) != len(real_labels) or len(fake) != len(fake_labels):
        raise ValueError(f"{path}: spectrograms and labels differ in count "
                         f"(real {len(real)}/{len(real_labels)}, fake {len(fake)}/{len(fake_labels)})")
    fig = Figure(figsize=(1.3 * 2 * per_digit + 0.6, 1.2 * 10), layout="constrained")
    axes = fig.subplots(10, 2 * per_digit, squeeze=False)
    for digit in range(10):
        rows = [(real[real_labels == digit][:per_digit], "real"),
                (fake[fake_labels == digit][:per_digit], "generated")]
        for half, (items, kind) in enumerate(rows):
            for j in range(per_digit):
                ax = axes[digit, half * per_digit + j]
                if j < len(items):
                    _draw(ax, items[j])
                else:
                    _blank(ax)
                if digit == 0:  # column headers, even over an empty slot
                    ax.set_title(kind, fontsize=9)
        axes[digit, 0].set_ylabel(str(digit), rotation=0, fontsize=12, labelpad=12, va="center")
    _save(fig, path)
