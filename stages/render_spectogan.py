"""Stage render_spectogan: WAVs via Griffin-Lim, spectrogram PNGs, real-vs-generated per digit, an interpolation."""

from pathlib import Path

from ganaudio.tasks import spectogan
from ganaudio.utils.io import atomic_dir, write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--mels", type=Path, required=True)
    ap.add_argument("--classifier", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True, help="JSON summary (renderer, counts)")
    args = ap.parse_args(argv)
    params = common.load(args, ["spectogan"])
    with common.tracked(params, "spectogan", "render_spectogan", ["spectogan"]) as tracker:
        with atomic_dir(args.out) as out:
            summary = spectogan.render(params.spectogan, args.model, args.mels, args.classifier, out, tracker)
    write_json(args.metrics, summary)


if __name__ == "__main__":
    common.run(main)
