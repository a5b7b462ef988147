"""Score trained PianoGAN models of several training seeds with the evaluation table, and average them.

    python experiments/pianogan_seeds.py --split valid --peer models/pianoar models/pianogan /tmp/seed1
    python experiments/pianogan_seeds.py --split test  --peer models/pianoar models/pianogan /tmp/seed1

Each model folder is scored by `ganaudio.tasks.pianogan.evaluate` (the eval stage's own code) with
params.yaml's `pianogan.eval`; the table is the mean over seeds of each row's structure and order
scores. The valid split is for choosing a recipe; score the test split once, for the chosen one.
Writes <out>/seeds_<split>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganaudio.config import load_params  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", type=Path, help="train_pianogan output folders, one per training seed")
    ap.add_argument("--split", choices=["valid", "test"], required=True)
    ap.add_argument("--peer", type=Path, help="train_pianoar's output: adds the autoregressive row")
    ap.add_argument("--notes", type=Path, default=Path("data/processed/notes"))
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", type=Path, default=Path("."))
    args = ap.parse_args(argv)
    from ganaudio.tasks.pianogan import evaluate

    p = load_params(args.params, {"runtime": {"mlflow": False, "progress": False}})
    results = {str(m): evaluate(p.pianogan, m, args.notes, split=args.split, peer_dir=args.peer) for m in args.models}
    rows = list(next(iter(results.values()))["rows"])
    summary = {}
    for row in rows:
        per_seed = {k: [r["rows"][row][k]["mean"] for r in results.values()] for k in ("structure_score", "order_score")}
        summary[row] = {k: {"mean": float(np.mean(v)), "per_seed": v} for k, v in per_seed.items()}
        summary[row]["copy_share"] = [r["rows"][row]["novelty"]["copy_share"]["mean"] for r in results.values()]
        print(f"{row:16s} structure {np.mean(per_seed['structure_score']):6.3f} {per_seed['structure_score']}  "
              f"order {np.mean(per_seed['order_score']):6.3f} {per_seed['order_score']}")
    entropy = {m: r["head_entropy"]["trained"] for m, r in results.items()}
    print("head entropy (nats):", json.dumps(entropy))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"seeds_{args.split}.json").write_text(json.dumps(
        {"split": args.split, "models": [str(m) for m in args.models], "summary": summary, "head_entropy": entropy,
         "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
