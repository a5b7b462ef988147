"""Stage train_wavegan: waveforms -> WaveGAN checkpoints, metrics.csv, a loss curve, and best.pt by valid FID."""

from pathlib import Path

from ganaudio.tasks import wavegan
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--waves", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--mels", type=Path, help="the mels stage's folder: the valid split the monitor scores")
    ap.add_argument("--classifier", type=Path, help="the digit classifier the monitor scores with")
    ap.add_argument("--metrics", type=Path, required=True)
    ap.add_argument("--losses", type=Path, help="also copy the training log (metrics.csv) here, for `dvc plots`")
    args = ap.parse_args(argv)
    params = common.load(args, ["wavegan"])
    with common.tracked(params, "wavegan", "train_wavegan", ["wavegan"]) as tracker:
        summary = wavegan.train(params.wavegan, params.runtime, args.waves, args.out, tracker,
                                mels_dir=args.mels, classifier_path=args.classifier)
    write_json(args.metrics, summary)
    if args.losses and summary.get("rank", 0) == 0:
        common.copy_losses(args.out, args.losses)


if __name__ == "__main__":
    common.run(main)
