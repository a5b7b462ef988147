"""Stage train_classifier: the digit classifier behind SpectoGAN's IS, FID and NDB (WaveGAN's protocol)."""

from pathlib import Path

from ganaudio.tasks import classifier
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--mels", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="classifier checkpoint file")
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args, ["classifier"])
    with common.tracked(params, "spectogan", "train_classifier", ["classifier"]) as tracker:
        result = classifier.train_classifier(params.classifier, params.runtime, args.mels, args.out, tracker)
    write_json(args.metrics, result)


if __name__ == "__main__":
    common.run(main)
