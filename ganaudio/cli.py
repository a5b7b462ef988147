"""`ganaudio` command line: generate audio from a checkpoint, list tracked runs, check params.yaml.

Expected errors (`ganaudio.errors.GanaudioError`: bad params, missing or wrong inputs) print as
one line with exit code 2; `--debug` or GANAUDIO_DEBUG=1 adds the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ganaudio.errors import BadInputError, MissingInputError, run_main

log = logging.getLogger("ganaudio")


def main(argv: list[str] | None = None) -> int:
    from ganaudio.utils.logs import setup_logging

    ap = argparse.ArgumentParser(prog="ganaudio", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--debug", action="store_true", help="show the traceback of expected errors too")
    sub = ap.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write samples (MIDI/WAV or WAV/PNG) from a trained generator")
    gen.add_argument("gan", choices=["pianogan", "spectogan", "wavegan"])
    gen.add_argument("--checkpoint", type=Path, required=True, help="e.g. models/spectogan/checkpoints/latest.pt")
    gen.add_argument("--n", type=int, default=8)
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--digit", type=int, choices=range(10), help="spectogan or wavegan, conditional models only")
    gen.add_argument("--data", type=Path, help="processed data folder with the normalisation stats "
                     "(default: data/processed/notes or data/processed/mels)")
    gen.add_argument("--params", type=Path, default=Path("params.yaml"))

    runs = sub.add_parser("runs", help="recent pipeline runs of an experiment side by side, the terminal compare view")
    runs.add_argument("--experiment", default="spectogan", help="a GAN (pianogan, spectogan, ...), data or pipeline")
    runs.add_argument("--limit", type=int, default=10)
    runs.add_argument("--stages", action="store_true", help="one row per stage run instead of per pipeline run")

    check = sub.add_parser("check-params", help="validate a params file (what `make run` does before DVC)")
    check.add_argument("params", type=Path, nargs="?", default=Path("params.yaml"))

    args = ap.parse_args(argv)
    setup_logging()
    return run_main(lambda: _dispatch(args), "ganaudio", debug=args.debug or None)


def _dispatch(args: argparse.Namespace) -> None:
    if args.command == "generate":
        written = generate(args)
        print(f"wrote {len(written)} files to {args.out}")
    elif args.command == "runs":
        from ganaudio.runs import print_runs

        print_runs(args.experiment, args.limit, stages=args.stages)
    elif args.command == "check-params":
        from ganaudio.config import load_params

        load_params(args.params)
        print(f"{args.params}: ok")


def generate(args: argparse.Namespace) -> list[Path]:
    """Check everything (params, checkpoint kind, --n, stats) before --out is created."""
    from ganaudio.config import load_params
    from ganaudio.models.registry import read_checkpoint
    from ganaudio.utils.device import apply_runtime

    params = load_params(args.params) if args.params.exists() else None
    if args.n < 1:
        raise BadInputError(f"--n is {args.n}; pass the number of samples to write, 1 or more")
    checkpoint = _exists(args.checkpoint, f"train_{args.gan}")
    blob = read_checkpoint(checkpoint)
    if blob["kind"] != args.gan:
        raise BadInputError(f"{checkpoint} is a {blob['kind']} checkpoint, not {args.gan}; run "
                            f"`ganaudio generate {blob['kind']} ...` or pass a {args.gan} checkpoint")
    if params is not None:
        apply_runtime(params.runtime)
    if args.gan == "wavegan":
        return generate_wavegan(args, checkpoint, params.mels.sample_rate if params else 16000)
    written: list[Path] = []
    if args.gan == "pianogan":
        from ganaudio.audio.midi import choose_synth, notes_to_midi, render_wav, write_midi
        from ganaudio.data.windows import NoteStats
        from ganaudio.tasks.pianogan import generate_notes

        if args.digit is not None:
            raise BadInputError("--digit is for spectogan and wavegan; pianogan takes no digit")
        data = args.data or Path("data/processed/notes")
        stats = NoteStats.from_json(_exists(data / "stats.json", "notes"))
        sr = params.pianogan.render.sample_rate if params else 22050
        synth = choose_synth(params.pianogan.render.soundfont if params else None)
        log.info("rendering WAVs with %s (%s)", synth.renderer, synth.soundfont or "no soundfont")
        args.out.mkdir(parents=True, exist_ok=True)
        for i, notes in enumerate(generate_notes(checkpoint, stats, args.n, args.seed)):
            pm = notes_to_midi(notes)
            write_midi(pm, args.out / f"pianogan_{i:03d}.mid")
            render_wav(pm, args.out / f"pianogan_{i:03d}.wav", sample_rate=sr, synth=synth)
            written += [args.out / f"pianogan_{i:03d}.mid", args.out / f"pianogan_{i:03d}.wav"]
        return written

    from ganaudio.audio.wav import write_wav
    from ganaudio.config import SpectoGANConfig
    from ganaudio.plots.spectrogram import plot_spectrogram
    from ganaudio.tasks.spectogan import Sampler

    data = args.data or Path("data/processed/mels")
    _exists(data / "stats.pt", "mels")
    sampler = Sampler(checkpoint, data, params.spectogan if params else SpectoGANConfig())
    labels = _digit_labels(args, sampler.conditional)
    args.out.mkdir(parents=True, exist_ok=True)
    x = sampler.spectrograms(args.n, args.seed, labels=labels)
    audio = sampler.to_audio(x)
    for i, (spec, wav) in enumerate(zip(x, audio)):
        stem = args.out / f"spectogan_{i:03d}"
        write_wav(stem.with_suffix(".wav"), wav.numpy(), sampler.mel_cfg.sample_rate)
        plot_spectrogram(spec[0].numpy(), stem.with_suffix(".png"), title=stem.name)
        written += [stem.with_suffix(".wav"), stem.with_suffix(".png")]
    return written


def generate_wavegan(args: argparse.Namespace, checkpoint: Path, sr: int) -> list[Path]:
    """WAVs straight from the generator (no inversion, no data needed) at the data's rate `sr`, a waveform PNG each."""
    from ganaudio.plots.waveform import plot_waveform
    from ganaudio.audio.wav import write_wav
    from ganaudio.tasks.wavegan import Sampler

    sampler = Sampler(checkpoint)
    labels = _digit_labels(args, sampler.conditional)
    args.out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for i, wav in enumerate(sampler.audio(args.n, args.seed, labels=labels)):
        stem = args.out / f"wavegan_{i:03d}"
        written += [write_wav(stem.with_suffix(".wav"), wav, sr), stem.with_suffix(".png")]
        plot_waveform(wav, None, stem.with_suffix(".png"), sr, title=stem.name)
    return written


def _digit_labels(args: argparse.Namespace, conditional: bool):
    """(n,) labels all `--digit` for a conditional digit GAN; None without --digit; an error for an unconditional one."""
    if args.digit is None:
        return None
    if not conditional:
        raise BadInputError(f"{args.checkpoint} is an unconditional model; --digit needs "
                            f"{args.gan}.model.conditional: true")
    import torch

    return torch.full((args.n,), args.digit, dtype=torch.long)


def _exists(path: Path, stage: str) -> Path:
    if not path.exists():
        raise MissingInputError(f"{path} not found; run `dvc repro {stage}` first or pass the right path")
    return path


if __name__ == "__main__":
    sys.exit(main())
