"""Stage waves: SC09 WAV -> 16,384-sample waveforms per split (the mels stage's clips and labels), for WaveGAN."""

from pathlib import Path

from ganaudio.tasks import data
from ganaudio.utils.io import atomic_dir, write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--sc09", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--plots", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args, ["mels"])
    with common.tracked(params, "data", "waves", ["mels"]) as tracker, atomic_dir(args.plots) as plots:
        summary = data.extract_waves(params, args.sc09, args.out, plots, tracker)
    write_json(args.metrics, summary)


if __name__ == "__main__":
    common.run(main)
