"""Stage notes: MIDI -> note table (Parquet by split), windows of seq_len notes and their stats."""

from pathlib import Path

from ganaudio.tasks import data
from ganaudio.utils.io import atomic_dir, write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--maestro", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--plots", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args, ["notes"])
    with common.tracked(params, "data", "notes", ["notes"]) as tracker, atomic_dir(args.plots) as plots:
        summary = data.extract_notes(params, args.maestro, args.out, plots, tracker)
    write_json(args.metrics, summary)


if __name__ == "__main__":
    common.run(main)
