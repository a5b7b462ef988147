"""Stage eval_spectogan: IS, FID, NDB/k, D_self and D_train for trained, untrained and real clips;
per-digit accuracy and a confusion-matrix PNG for a conditional model (else the digits heard)."""

from pathlib import Path

from ganaudio.metrics.headline.rules import log_headline
from ganaudio.tasks import spectogan
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
    params = common.load(args, ["spectogan"])
    with common.tracked(params, "spectogan", "eval_spectogan", ["spectogan"]) as tracker:
        result = spectogan.evaluate(params.spectogan, args.model, args.mels, args.classifier,
                                    read_json(args.classifier_metrics), tracker, progress=params.runtime.progress,
                                    digits_png=args.digits)
        log_headline(tracker, "spectogan", result, trained_checkpoint(args.model, "spectogan"))
    write_json(args.metrics, result)


if __name__ == "__main__":
    common.run(main)
