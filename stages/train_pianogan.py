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
    ap.add_argument("--peer", type=Path, help="train_pianoar's output: the starting weights of model.peer_init")
    ap.add_argument("--losses", type=Path, help="also copy the training log (metrics.csv) here, for `dvc plots`")
    args = ap.parse_args(argv)
    params = common.load(args, ["pianogan"])
    with common.tracked(params, "pianogan", "train_pianogan", ["pianogan"]) as tracker:
        summary = pianogan.train(params.pianogan, params.runtime, args.notes, args.out, tracker, peer_dir=args.peer)
    write_json(args.metrics, summary)
    if args.losses and summary.get("rank", 0) == 0:
        common.copy_losses(args.out, args.losses)


if __name__ == "__main__":
    common.run(main)
