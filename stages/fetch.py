"""Stages fetch_maestro and fetch_sc09: the official data set (data.source: official) or the embedded
one the project builds itself (embedded), in the official layout either way."""

from pathlib import Path

from ganaudio.tasks import data
from ganaudio.utils.io import atomic_dir, write_json
from stages import common

FETCHERS = {"maestro": data.fetch_maestro, "sc09": data.fetch_sc09}


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--dataset", choices=sorted(FETCHERS), required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True, help="downloads (kept across runs for resume)")
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    stage = f"fetch_{args.dataset}"
    params = common.load(args, ["data", stage])
    with common.tracked(params, "data", stage, ["data", stage]) as tracker, atomic_dir(args.out) as out:
        summary = FETCHERS[args.dataset](params, out, args.cache)
        tracker.log_metrics(data.numeric_leaves(summary))
    write_json(args.metrics, summary)


if __name__ == "__main__":  # also required: mini-SC09 builds in spawned worker processes
    common.run(main)
