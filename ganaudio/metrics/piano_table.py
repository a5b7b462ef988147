"""PianoGAN's evaluation table: every row scored by one function against one target split.

Rows (`ROWS`): the trained and untrained generators, the baselines of `metrics.baselines`, and
`reference` (real training windows against the target). Each row is drawn for several seeds;
`Scorer.score` measures one draw (MGEval comparison, the `metrics.music` distances, novelty) and
`table` turns the draws into mean ± std per figure, the structure score of every row and the
headline (`metrics.headline.pianogan`).

Beside the headline, each row gets an `order_score`: the mean OA over the features that depend on
note order (`mgeval.ORDER_FEATURES`) on a scale where `shuffled_train` (real windows, notes
shuffled) is 0 and `reference` 1. The structure score is dominated by per-window histograms, which
shuffling keeps; the order score says whether a generator also puts its notes in a real order.
"""

from __future__ import annotations

import numpy as np

from ganaudio.metrics.headline import pianogan as hl
from ganaudio.metrics.mgeval import FEATURES, ORDER_FEATURES, TargetSet
from ganaudio.metrics.music import distances
from ganaudio.metrics.novelty import COPY_RUN, NoveltyIndex

ROWS = ("trained", "untrained", "iid_notes", "shuffled_train", "copy_train", "reference")
PEER = "autoregressive"  # the LSTM peer's row (tasks/piano_peer.py), when its model is given


def rows_for(peer: bool) -> tuple[str, ...]:
    """The table's rows, the peer's beside the trained generator's when there is one."""
    return ROWS[:1] + (PEER,) + ROWS[1:] if peer else ROWS


def is_generator(row: str) -> bool:
    """Rows the novelty gate applies to: every one but the real windows."""
    return row != "reference"


class Scorer:
    """The target split and the training windows, indexed once; `score` measures any set against them."""

    def __init__(self, target, train, copy_run: int = COPY_RUN):
        self.target = np.asarray(target)
        self.mgeval = TargetSet(self.target)
        self.novelty = NoveltyIndex(train, copy_run)
        self.target_novelty = self.novelty.measure(self.target)  # the yardstick: real held-out windows

    def score(self, notes) -> dict:
        mg = self.mgeval.compare(notes)
        return {
            "mean_overlap": float(np.mean([mg[f]["overlap_area"] for f in FEATURES])),
            "order_overlap": float(np.mean([mg[f]["overlap_area"] for f in ORDER_FEATURES])),
            "mgeval": mg,
            "distances": distances(notes, self.target),
            "novelty": self.novelty.measure(notes),
        }


def summarise(draws: list[dict]) -> dict:
    """Nested dicts of floats, one per seed -> the same nesting with {"mean", "std"} leaves."""
    first = draws[0]
    if isinstance(first, dict):
        return {k: summarise([d[k] for d in draws]) for k in first}
    return hl.mean_std(draws)


def table(draws: dict[str, list[dict]], split: str, max_copy_share: float) -> dict:
    """The metrics.json body: rows, headline, target figures; plain floats, bools and strings only."""
    scores = hl.structure_scores({row: [d["mean_overlap"] for d in ds] for row, ds in draws.items()})
    order = hl.scale_scores({row: [d["order_overlap"] for d in ds] for row, ds in draws.items()},
                            "shuffled_train", hl.CEILING)
    rows = {}
    for row, ds in draws.items():
        out = summarise(ds)
        out["structure_score"] = hl.mean_std(scores[row])
        out["order_score"] = hl.mean_std(order[row])
        out["seeds"] = len(ds)
        share = out["novelty"]["copy_share"]["mean"]
        out["novelty"]["failed"] = bool(share >= max_copy_share) if is_generator(row) else None
        rows[row] = out
    head = hl.headline(scores, rows["trained"]["novelty"]["copy_share"]["mean"], max_copy_share)
    return {
        "split": split,
        "headline": head,
        "rows": rows,
        "flagged": [r for r in rows if rows[r]["novelty"]["failed"]],
        "distances": {name: {row: rows[row]["distances"][name]["mean"] for row in rows}
                      for name in rows["trained"]["distances"]},
    }


def flat_metrics(result: dict) -> dict[str, float]:
    """The figures MLflow gets: headline, and per row its structure score, mean OA and copy share."""
    head = result["headline"]
    flat = {f"headline/{k}": float(head[k]) for k in ("score", "baseline_score", "baseline_std")
            if head[k] is not None}
    flat["headline/passed"] = float(head["passed"])
    for row, r in result["rows"].items():
        flat[f"{row}/structure_score"] = r["structure_score"]["mean"]
        flat[f"{row}/order_score"] = r["order_score"]["mean"]
        flat[f"{row}/mean_overlap"] = r["mean_overlap"]["mean"]
        flat[f"{row}/copy_share"] = r["novelty"]["copy_share"]["mean"]
        flat[f"{row}/longest_run_median"] = r["novelty"]["longest_run_median"]["mean"]
    for name in FEATURES:
        flat[f"trained/overlap/{name}"] = result["rows"]["trained"]["mgeval"][name]["overlap_area"]["mean"]
    for name, v in result["rows"]["trained"]["distances"].items():
        flat[f"trained/dist/{name}"] = v["mean"]
    return {k: v for k, v in flat.items() if v is not None}
