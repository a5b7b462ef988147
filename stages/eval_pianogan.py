"""Stage eval_pianogan: MGEval-style distances to the test split (trained, untrained, train-vs-test)."""

from pathlib import Path

from ganaudio.metrics.headline import log_headline
from ganaudio.tasks import pianogan
from ganaudio.tasks.common import latest_checkpoint
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--notes", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args)
    with common.tracked(params, "pianogan", "eval_pianogan", ["pianogan"]) as tracker:
        result = pianogan.evaluate(params.pianogan, args.model, args.notes, tracker)
        log_headline(tracker, "pianogan", result, latest_checkpoint(args.model, "pianogan"))
    write_json(args.metrics, result)


if __name__ == "__main__":
    common.run(main)
