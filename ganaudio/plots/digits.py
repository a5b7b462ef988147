"""Digit plots of a SpectoGAN evaluation: what a conditional generator was asked for vs what the
classifier heard, or, for an unconditional one, which digits it produces as often as the data."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ganaudio.plots.spectrogram import _save  # Agg canvas + atomic PNG write


def plot_confusion(matrix, path: str | os.PathLike, title: str = "generated digits: asked for vs heard") -> None:
    """A (10, 10) count matrix (rows: requested digit, columns: classifier's label) as row shares."""
    m = np.asarray(matrix, np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{path}: confusion matrix must be square, got shape {m.shape}")
    share = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig = Figure(figsize=(6, 5.2), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    n = len(m)
    for i in range(n):
        for j in range(n):
            if share[i, j] >= 0.005:
                ax.text(j, i, f"{share[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("digit the classifier hears")
    ax.set_ylabel("digit asked for")
    ax.set_title(f"{title}; mean accuracy {np.trace(share) / n:.2f}", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8)
    _save(fig, path)


def plot_digit_shares(generated: Sequence[int], real: Sequence[int], path: str | os.PathLike,
                      title: str = "digits heard in generated vs real clips") -> None:
    """Side-by-side bars: the share of each digit among generated and among real clips."""
    gen, ref = np.asarray(generated, np.float64), np.asarray(real, np.float64)
    if gen.shape != ref.shape:
        raise ValueError(f"{path}: {gen.shape} generated vs {ref.shape} real digit counts")
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(gen))
    ax.bar(x - 0.2, gen / max(gen.sum(), 1), 0.4, label="generated")
    ax.bar(x + 0.2, ref / max(ref.sum(), 1), 0.4, label="real")
    ax.set_xticks(x)
    ax.set_xlabel("digit the classifier hears")
    ax.set_ylabel("share of clips")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    _save(fig, path)
