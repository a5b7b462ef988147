"""PianoGAN's headline: structure gap closed from independent notes toward real data, gated on novelty.

Why this scale. Per row, the mean over MGEval features of the overlapped area (OA) between the
target set's intra-set distances and the row's inter-set distances (`metrics.mgeval`) says how
well its windows sit among real ones. That mean is put on a scale whose 0 is `iid_notes` (every
note drawn independently from the training notes: the note-level distributions for free, no
structure between notes) and whose 1 is `reference` (real training windows against the target):

    score(row) = (mean OA(row) - mean OA(iid_notes)) / (mean OA(reference) - mean OA(iid_notes))

so 0 means "no more structure than independent notes" and 1 "as close as real music". Copying
training windows scores ~1 on any distribution measure, so the score alone cannot separate
learning from memorising: the novelty gate does (`metrics.novelty`). A generator passes when
fewer than `max_copy_share` of its windows hold a verbatim (transposition-invariant) training run
of `copy_run` notes, and its score beats iid_notes' by more than 3 x the spread of iid_notes'
seeds (the noise of the floor itself).
"""

from __future__ import annotations

import math

import numpy as np

NAME = "structure gap closed from iid_notes to reference (mean MGEval overlapped area)"
FLOOR, CEILING = "iid_notes", "reference"
NOISE_MULTIPLE = 3.0


def gap_closed(value: float, floor: float, ceiling: float) -> float | None:
    """Share of the floor-to-ceiling gap `value` covers: 0 at the floor, 1 at the ceiling; None if no gap.

    Works in either direction: for a distance (lower is better) the ceiling is the smaller value.
    """
    gap = ceiling - floor
    if abs(gap) < 1e-12:
        return None
    return float((value - floor) / gap)


def mean_std(values) -> dict[str, float | None]:
    """{"mean", "std"} over seeds (std with ddof=1, 0 for one seed); None values are skipped."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if len(v) == 0:
        return {"mean": None, "std": None}
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def scale_scores(values: dict[str, list[float]], floor_row: str, ceiling_row: str) -> dict[str, list[float | None]]:
    """Per row, per seed: `values` on the scale where floor_row's mean is 0 and ceiling_row's is 1."""
    for row in (floor_row, ceiling_row):
        if row not in values:
            raise ValueError(f"metrics.headline.pianogan: the '{row}' row is needed to place the others")
    floor, ceiling = (float(np.mean(values[r])) for r in (floor_row, ceiling_row))
    return {row: [gap_closed(v, floor, ceiling) for v in vs] for row, vs in values.items()}


def structure_scores(mean_overlaps: dict[str, list[float]]) -> dict[str, list[float | None]]:
    """Per row, per seed: the mean OA on the iid_notes (0) to reference (1) scale: the headline's scale."""
    return scale_scores(mean_overlaps, FLOOR, CEILING)


def headline(scores: dict[str, list[float | None]], copy_share: float, max_copy_share: float,
             row: str = "trained") -> dict:
    """The contract other code reads (promotion): name, score, baseline_score, baseline_std, passed."""
    score, base = mean_std(scores[row]), mean_std(scores[FLOOR])
    valid = score["mean"] is not None and base["mean"] is not None
    margin = score["mean"] - base["mean"] if valid else None
    required = NOISE_MULTIPLE * base["std"] if valid else None
    novel = copy_share < max_copy_share
    beats = bool(valid and margin > required)
    verdict = (f"{'PASSED' if beats and novel else 'FAILED'}: {row} {_fmt(score)} vs {FLOOR} {_fmt(base)} "
               f"(needs a margin > {_num(required)}); {100 * copy_share:.1f} % of windows copy a training run "
               f"(gate < {100 * max_copy_share:.0f} %)")
    return {
        "name": NAME, "row": row,
        "score": score["mean"], "score_std": score["std"],
        "baseline": FLOOR, "baseline_score": base["mean"], "baseline_std": base["std"],
        "margin": margin, "required_margin": required,
        "copy_share": copy_share, "max_copy_share": max_copy_share,
        "beats_baseline": beats, "novelty_passed": novel, "passed": beats and novel, "verdict": verdict,
    }


def _num(x: float | None) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3f}"


def _fmt(ms: dict) -> str:
    return f"{_num(ms['mean'])} ± {_num(ms['std'])}"
