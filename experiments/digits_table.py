"""Print the README's SpectoGAN-vs-WaveGAN table (markdown) from the eval and train reports.

    python experiments/digits_table.py [--reports reports]

One table, as in Donahue et al. (2019): both digit GANs on the same data, judged by the same
classifier on the same test split, beside the real clips as recorded and through SpectoGAN's
Griffin-Lim (what phase recovery alone costs). Then the bars of issues 11 and 12, computed from
the same numbers. So the README's figures are copied by a program, not by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

GANS = ("spectogan", "wavegan")
NAMES = {"spectogan": "SpectoGAN", "wavegan": "WaveGAN"}


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def cells(metrics: dict, row: str) -> list[str]:
    is_ = metrics["inception_score"][row]
    return [f"{is_['mean']:.2f} ± {is_['std']:.2f}", f"{metrics['fid'][row]:.1f}", f"{metrics['ndb_k'][row]:.2f}",
            f"{metrics['d_self'][row]:.2f}", f"{metrics['d_train'][row]:.2f}"]


def training(train: dict | None) -> str:
    if not train:
        return "–"
    # The step the model reached, over every invocation: a resumed or already-finished run's
    # `steps_run` counts only the last one.
    reached = (train.get("resumed_from") or 0) + train.get("steps_run", 0) if "steps_run" in train else train["steps"]
    return f"{reached:,} steps, {train['train_seconds'] / 60:.1f} min"


def table(reports: Path) -> str:
    metrics = {g: load(reports / g / "metrics.json") for g in GANS}
    trains = {g: load(reports / g / "train.json") for g in GANS}
    ref = metrics["spectogan"] or metrics["wavegan"]
    if ref is None:
        raise SystemExit(f"no {reports}/spectogan/metrics.json or {reports}/wavegan/metrics.json; run dvc repro")
    lines = ["| clips | Inception Score ↑ | FID ↓ | NDB/k ↓ | D_self | D_train | training |",
             "|---|---|---|---|---|---|---|",
             f"| real test set (ceiling; FID vs train) | {' | '.join(cells(ref, 'real'))} | – |"]
    if metrics["spectogan"] and "real_inverted" in metrics["spectogan"]["fid"]:
        lines.append(f"| real test set through Griffin-Lim | {' | '.join(cells(metrics['spectogan'], 'real_inverted'))} | – |")
    for g in GANS:
        if metrics[g] is None:
            continue
        lines.append(f"| **{NAMES[g]}**, trained | {' | '.join(cells(metrics[g], 'trained'))} | {training(trains[g])} |")
        lines.append(f"| {NAMES[g]}, untrained (floor) | {' | '.join(cells(metrics[g], 'untrained'))} | – |")
    return "\n".join(lines)


def bars(reports: Path) -> str:
    """Each issue's bar, the measured value and pass/FAIL."""
    out = []
    s, w = load(reports / "spectogan" / "metrics.json"), load(reports / "wavegan" / "metrics.json")

    def check(name: str, value: float, op: str, bound: float) -> None:
        ok = value >= bound if op == "≥" else value <= bound
        out.append(f"- {name}: {value:.3g} {op} {bound:.3g}: {'pass' if ok else 'FAIL'}")

    if s:
        real_is = s["inception_score"]["real"]["mean"]
        check("SpectoGAN IS / real IS", s["inception_score"]["trained"]["mean"] / real_is, "≥", 0.66)
        check("SpectoGAN NDB/k", s["ndb_k"]["trained"], "≤", 0.5)
        check("SpectoGAN FID / FID of real through Griffin-Lim", s["fid"]["trained"] / s["fid"]["real_inverted"], "≤", 3.0)
        acc = s.get("per_digit_accuracy", {}).get("trained")
        if acc:
            check("SpectoGAN mean per-digit accuracy", acc["mean"], "≥", 0.8)
            out.append("  per digit: " + ", ".join(f"{d}: {a:.2f}" for d, a in enumerate(acc["per_digit"])))
    if w:
        check("WaveGAN IS / untrained IS", w["inception_score"]["trained"]["mean"] / w["inception_score"]["untrained"]["mean"],
              "≥", 2.0)
        check("WaveGAN FID / untrained FID", w["fid"]["trained"] / w["fid"]["untrained"], "≤", 0.5)
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=Path, default=Path("reports"))
    args = ap.parse_args(argv)
    print(table(args.reports))
    print()
    print(bars(args.reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
