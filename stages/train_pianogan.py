"""Stage train_pianogan: note windows -> PianoGAN checkpoints, metrics.csv and a loss curve."""

from pathlib import Path

from ganaudio.tasks import pianogan
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--notes", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args)
    with common.tracked(params, "pianogan", "train_pianogan", ["pianogan"]) as tracker:
        summary = pianogan.train(params.pianogan, params.runtime, args.notes, args.out, tracker)
    write_json(args.metrics, summary)


if __name__ == "__main__":
    common.run(main)
