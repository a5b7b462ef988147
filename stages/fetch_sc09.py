"""Stage fetch_sc09: SC09 from Speech Commands v0.02 (official) or eSpeak digits (embedded) -> data/raw/sc09."""

from pathlib import Path

from ganaudio.tasks import data
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True, help="downloads (kept across runs for resume)")
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args)
    with common.tracked(params, "data", "fetch_sc09", ["data", "fetch_sc09"]) as tracker:
        summary = data.fetch_sc09(params, args.out, args.cache)
        tracker.log_metrics(data._numeric(summary))
    write_json(args.metrics, summary)


if __name__ == "__main__":
    main()
