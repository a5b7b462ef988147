"""Stage render_pianogan: samples as MIDI, WAV and piano rolls; the pitch-only experiment; an interpolation."""

from pathlib import Path

from ganaudio.tasks import pianogan
from ganaudio.utils.io import atomic_dir, write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--notes", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True, help="JSON summary (renderer, counts)")
    args = ap.parse_args(argv)
    params = common.load(args, ["pianogan"])
    with common.tracked(params, "pianogan", "render_pianogan", ["pianogan"]) as tracker:
        with atomic_dir(args.out) as out:
            summary = pianogan.render(params.pianogan, args.model, args.notes, out, tracker)
    write_json(args.metrics, summary)


if __name__ == "__main__":
    common.run(main)
