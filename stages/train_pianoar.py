"""Stage train_pianoar: note windows -> the autoregressive peer (an LSTM), PianoGAN's `autoregressive` row."""

from pathlib import Path

from ganaudio.tasks import piano_peer
from ganaudio.utils.io import write_json
from stages import common


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--notes", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--metrics", type=Path, required=True)
    args = ap.parse_args(argv)
    params = common.load(args, ["pianogan"])
    with common.tracked(params, "pianogan", "train_pianoar", ["pianogan.peer"]) as tracker:
        summary = piano_peer.train(params.pianogan.peer, args.notes, args.out, tracker)
    write_json(args.metrics, summary)


if __name__ == "__main__":
    common.run(main)
