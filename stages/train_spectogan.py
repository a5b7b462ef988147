"""Stage train_spectogan: log-mel spectrograms -> SpectoGAN checkpoints, metrics.csv and a loss curve."""

from pathlib import Path

from ganaudio.tasks import spectogan
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--mels", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    ap.add_argument("--losses", type=Path, help="also copy the training log (metrics.csv) here, for `dvc plots`")
    args = ap.parse_args(argv)
    params = common.load(args, ["spectogan"])
    with common.tracked(params, "spectogan", "train_spectogan", ["spectogan"]) as tracker:
        summary = spectogan.train(params.spectogan, params.runtime, args.mels, args.out, tracker)
    write_json(args.metrics, summary)
    if args.losses and summary.get("rank", 0) == 0:
        common.copy_losses(args.out, args.losses)


if __name__ == "__main__":
    common.run(main)
