"""Stage eval_pianogan: every evaluation row (trained, untrained, baselines, reference) against the test split."""

from pathlib import Path

from ganaudio.metrics.headline.rules import log_headline
from ganaudio.plots.piano import plot_evaluation
from ganaudio.tasks import pianogan
from ganaudio.tasks.common import trained_checkpoint
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--notes", type=Path, required=True)
    ap.add_argument("--peer", type=Path, help="train_pianoar's output: adds the autoregressive row")
    ap.add_argument("--metrics", type=Path, required=True)
    ap.add_argument("--plot", type=Path, required=True, help="PNG of the rows' scores and overlapped areas")
    args = ap.parse_args(argv)
    params = common.load(args, ["pianogan"])
    with common.tracked(params, "pianogan", "eval_pianogan", ["pianogan"]) as tracker:
        # The one place the test split is scored: every model choice is made on valid.
        result = pianogan.evaluate(params.pianogan, args.model, args.notes, tracker, split="test",
                                   progress=params.runtime.progress, peer_dir=args.peer)
        log_headline(tracker, "pianogan", result, trained_checkpoint(args.model, "pianogan"))
        write_json(args.metrics, result)
        plot_evaluation(result, args.plot)
        tracker.log_artifact(args.plot)


if __name__ == "__main__":
    common.run(main)
