"""Loss curves from a run's metrics.csv: the PNG a person opens to see whether training worked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ganaudio.utils.io import atomic_path

PANELS = [  # (title, columns): absent columns are skipped
    ("critic and generator loss", ["adv/critic_loss", "adv/gen_loss"]),
    ("Wasserstein estimate D(real) − D(fake)", ["adv/wasserstein"]),
    ("gradient penalty", ["adv/gp"]),
    ("gradient norms", ["other/grad_norm_d", "other/grad_norm_g"]),
]


def plot_loss_curves(csv_path: str | Path, png_path: str | Path) -> None:
    """One panel per quantity against the step; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    csv_path = Path(csv_path)
    if not csv_path.exists():
        raise FileNotFoundError(f"{csv_path}: metrics file not found; train first")
    df = pd.read_csv(csv_path)
    if "step" not in df.columns:
        raise ValueError(f"{csv_path}: no 'step' column; is this a ganaudio metrics.csv?")
    panels = [(t, [c for c in cols if c in df.columns]) for t, cols in PANELS]
    panels = [(t, cols) for t, cols in panels if cols]
    fig, axes = plt.subplots(len(panels) or 1, 1, figsize=(8, 2.4 * max(len(panels), 1)), sharex=True, squeeze=False)
    for ax, (title, cols) in zip(axes[:, 0], panels):
        for col in cols:
            ax.plot(df["step"], df[col], label=col.split("/", 1)[-1], linewidth=1)
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    axes[-1, 0].set_xlabel("generator step")
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
