"""Waveform PNGs: one clip over its spectrogram, a grid of clips, real and generated side by side per digit.

Waveforms are drawn on a fixed [-1, 1] axis, so a quiet or silent generator looks quiet; the
spectrograms are the judge's analysis of the same audio (normalised log-mel, as the classifier sees it).
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from ganaudio.plots.spectrogram import _blank, _draw, _np, _save, grid

COLOUR = "#1f4e79"


def _wave(ax, y, sample_rate: int, title: str = "", ticks: bool = False) -> None:
    y = _np(y).reshape(-1)
    ax.plot(np.arange(len(y)) / sample_rate, y, color=COLOUR, linewidth=0.4)
    ax.set_ylim(-1, 1)
    ax.set_xlim(0, len(y) / sample_rate)
    if not ticks:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def plot_waveform(y, spec, path: str | os.PathLike, sample_rate: int, title: str = "") -> None:
    """One clip: the waveform (seconds, amplitude) above its (bins, frames) spectrogram (if `spec` is given)."""
    fig = Figure(figsize=(5, 4 if spec is not None else 2.2), layout="constrained")
    axes = fig.subplots(2 if spec is not None else 1, 1, squeeze=False)[:, 0]
    _wave(axes[0], y, sample_rate, title, ticks=True)
    axes[0].set_xlabel("seconds")
    axes[0].set_ylabel("amplitude")
    if spec is not None:
        _draw(axes[1], spec)
        axes[1].set_xlabel("frame")
        axes[1].set_ylabel("mel bin")
    _save(fig, path)


def plot_waveform_grid(ys, path: str | os.PathLike, sample_rate: int, titles: Optional[Sequence[str]] = None,
                       ncols: int = 4) -> None:
    """(N, S) or (N, 1, S) clips as a grid of `ncols` columns."""
    grid(ys, path, lambda ax, y, title: _wave(ax, y, sample_rate, title), "waveforms", titles, ncols, cell=(2.4, 1.3))


def plot_waveform_pairs(real, real_labels, fake, fake_labels, path: str | os.PathLike, sample_rate: int) -> None:
    """One row per digit 0..9: a real clip beside a generated one the classifier heard as that digit
    (an empty slot: the generator, as far as the classifier can tell, never says it)."""
    real, fake = _np(real), _np(fake)
    real_labels, fake_labels = _np(real_labels).astype(int), _np(fake_labels).astype(int)
    if len(real) != len(real_labels) or len(fake) != len(fake_labels):
        raise ValueError(f"{path}: waveforms and labels differ in count "
                         f"(real {len(real)}/{len(real_labels)}, fake {len(fake)}/{len(fake_labels)})")
    fig = Figure(figsize=(7, 10), layout="constrained")
    axes = fig.subplots(10, 2, squeeze=False)
    for digit in range(10):
        for col, (clips, labels, kind) in enumerate(((real, real_labels, "real"), (fake, fake_labels, "generated"))):
            ax = axes[digit, col]
            picks = np.flatnonzero(labels == digit)
            if len(picks):
                _wave(ax, clips[picks[0]], sample_rate)
            else:
                _blank(ax)
            if digit == 0:
                ax.set_title(kind, fontsize=9)
        axes[digit, 0].set_ylabel(str(digit), rotation=0, fontsize=12, labelpad=12, va="center")
    _save(fig, path)
