"""Stage eval_wavegan: IS, FID, NDB/k, D_self and D_train for trained, untrained and real clips (as SpectoGAN's),
with the digits the classifier hears (a confusion-matrix PNG for a conditional model, else digit shares)."""

from pathlib import Path

from ganaudio.metrics.headline.rules import log_headline
from ganaudio.tasks import wavegan
from ganaudio.tasks.common import trained_checkpoint
from ganaudio.utils.io import read_json, write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--mels", type=Path, required=True)
    ap.add_argument("--classifier", type=Path, required=True)
    ap.add_argument("--classifier-metrics", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    ap.add_argument("--digits", type=Path, required=True, help="PNG: confusion matrix or digit shares")
    args = ap.parse_args(argv)
    params = common.load(args, ["wavegan"])
    with common.tracked(params, "wavegan", "eval_wavegan", ["wavegan"]) as tracker:
        result = wavegan.evaluate(params.wavegan, args.model, args.mels, args.classifier,
                                  read_json(args.classifier_metrics), tracker, digits_png=args.digits)
        log_headline(tracker, "wavegan", result, trained_checkpoint(args.model, "wavegan"))
    write_json(args.metrics, result)


if __name__ == "__main__":
    common.run(main)
