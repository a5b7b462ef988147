"""Print the README's PianoGAN tables (markdown) from a reports/pianogan/metrics.json.

    python experiments/pianogan_table.py reports/pianogan/metrics.json

So the README's numbers are copied by a program, not by hand, after `dvc repro eval_pianogan`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganaudio.metrics.mgeval import FEATURES
from ganaudio.metrics.piano_table import PEER, rows_for


def ordered(result: dict) -> list[str]:
    """The table's rows in the evaluation's order (metrics.json sorts its keys), the peer's when present."""
    return list(rows_for(peer=PEER in result["rows"]))


def ms(v: dict, digits: int = 3) -> str:
    if v["mean"] is None:
        return "n/a"
    return f"{v['mean']:.{digits}f} ± {v['std']:.{digits}f}"


def percent(v: dict) -> str:
    return f"{100 * v['mean']:.1f} %"


def rows_table(result: dict) -> str:
    lines = ["| row | structure score ↑ | order score | mean OA | windows copying ≥ 16 notes | longest verbatim "
             "run (median) | nearest training window (median) | notes outside training range |",
             "|---|---|---|---|---|---|---|---|"]
    for name in ordered(result):
        r = result["rows"][name]
        nov = r["novelty"]
        flag = " **(copies: fails)**" if nov["failed"] else ""
        outside = percent(r["out_of_range_share"]) if "out_of_range_share" in r else "–"
        lines.append(f"| {name}{flag} | {ms(r['structure_score'], 2)} | {ms(r['order_score'], 2)} | "
                     f"{ms(r['mean_overlap'])} | {percent(nov['copy_share'])} | {nov['longest_run_median']['mean']:.0f} | "
                     f"{nov['nearest_train_median']['mean']:.2f} | {outside} |")
    t = result["target"]["novelty"]
    lines.append(f"| *{result['split']} windows themselves* | | | | {100 * t['copy_share']:.1f} % | "
                 f"{t['longest_run_median']:.0f} | {t['nearest_train_median']:.2f} | |")
    return "\n".join(lines)


def features_table(result: dict) -> str:
    rows = ordered(result)
    lines = ["| overlapped area | " + " | ".join(rows) + " |", "|---" * (len(rows) + 1) + "|"]
    for f in FEATURES:
        cells = [f"{result['rows'][r]['mgeval'][f]['overlap_area']['mean']:.2f}" for r in rows]
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("metrics", type=Path)
    args = ap.parse_args(argv)
    result = json.loads(args.metrics.read_text())
    print(rows_table(result))
    print()
    print(features_table(result))
    print()
    print(result["headline"]["verdict"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
