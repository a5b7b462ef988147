"""Stage render_wavegan: WAVs, waveform and spectrogram PNGs, real-vs-generated pairs per digit, an interpolation."""

from pathlib import Path

from ganaudio.tasks import wavegan
from ganaudio.utils.io import atomic_dir
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--waves", type=Path, required=True)
    ap.add_argument("--mels", type=Path, required=True)
    ap.add_argument("--classifier", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args, ["wavegan"])
    with common.tracked(params, "wavegan", "render_wavegan", ["wavegan"]) as tracker:
        with atomic_dir(args.out) as out:
            wavegan.render(params.wavegan, args.model, args.waves, args.mels, args.classifier, out, tracker)


if __name__ == "__main__":
    common.run(main)
