"""PianoGAN end to end: train on note windows, render MIDI/WAV/piano rolls, evaluate against a held-out split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ganaudio.config import PianoGANConfig, RuntimeConfig
from ganaudio.data.datasets import NoteWindows
from ganaudio.data.windows import NoteStats, raw_windows
from ganaudio.errors import BadInputError, MissingInputError
from ganaudio.models.pianogan import NoteEncoding
from ganaudio.tasks.common import fit, judged_checkpoints, trained_checkpoint
from ganaudio.utils.io import atomic_path
from ganaudio.tracking import Tracker

log = logging.getLogger(__name__)
KIND = "pianogan"
SEED_STRIDE = 1009  # evaluation draw k uses seed + k·SEED_STRIDE (and seed + 1 for pitches)
REFERENCE_SEED_OFFSET = 500


def train(cfg: PianoGANConfig, runtime: RuntimeConfig, notes_dir: Path, out_dir: Path,
          tracker: Tracker = Tracker(), peer_dir: Path | None = None) -> dict:
    """`peer_dir` (train_pianoar's output): where `model.peer_init` takes its starting weights."""
    dataset = NoteWindows(notes_dir, "train", encoding=NoteEncoding.of(cfg.model))
    key_prior = None
    if cfg.model.key_latent:
        from ganaudio.metrics.music import key_statistics

        key_prior = key_statistics(dataset.raw)
    warm = None
    if cfg.model.peer_init:
        if peer_dir is None:
            raise MissingInputError("pianogan.model.peer_init needs the peer: pass --peer models/pianoar "
                                    "(dvc repro train_pianoar first)")
        warm = _peer_warm_start(peer_dir, dataset.stats)
    return fit(KIND, cfg, runtime, dataset, out_dir, tracker, stats=dataset.stats, key_prior=key_prior,
               warm_start=warm)


def _peer_warm_start(peer_dir: Path, stats: NoteStats):
    """A function of the built recurrent generator: its weights with the peer's LSTM in its core.

    The peer's digest enters the run identity, so a retrained peer restarts the GAN, never resumes it.
    """
    from ganaudio.tasks import piano_peer
    from ganaudio.training.loop import WarmStart
    from ganaudio.tracking import file_digest

    ckpt = piano_peer.read(peer_dir)
    if tuple(ckpt["velocity_scale"]) != piano_peer.velocity_scale(stats):
        raise BadInputError(f"{peer_dir}: the peer was trained on other notes (velocity scale differs); "
                            "rerun `dvc repro train_pianoar`")

    def start(generator) -> WarmStart:
        weights = generator.state_dict()
        weights.update({f"core.{k}": v for k, v in ckpt["state_dict"].items()})
        return WarmStart(generator=weights, critic=None,
                         describe={"from": "peer", "digest": file_digest(Path(peer_dir) / piano_peer.CHECKPOINT)})

    return start


@torch.no_grad()
def generate_notes(checkpoint: Path, stats: NoteStats, n: int, seed: int, device: str | None = None,
                   z: torch.Tensor | None = None, pitch_sampling: str | None = None,
                   clip_pitch: bool = True) -> np.ndarray:
    """n samples from a checkpoint's generator as raw notes (n, seq_len, 4): pitch, step, duration, velocity.

    Either pitch head; a categorical one draws pitches with `pitch_sampling` ("softmax", seeded
    by `seed`, or "argmax"; None: the checkpoint's config). `clip_pitch`: clip pitches to the
    training range (for listening) or only to MIDI's 0..127 (for evaluation).
    """
    from ganaudio.models.registry import load_generator
    from ganaudio.utils.device import autocast, current_device

    device = device or current_device()
    generator, _ = load_generator(checkpoint, device=device)
    if z is None:  # drawn on the CPU: a seed gives the same latents on any device
        z = generator.sample_latent(n, generator=torch.Generator().manual_seed(seed), device="cpu")
    pick = torch.Generator(device=device).manual_seed(seed + 1)  # the softmax pitch draws
    out = []
    for batch in z.split(256):
        with autocast(torch.device(device)):  # runtime.precision
            feats = generator.features(batch.to(device), sampling=pitch_sampling, generator=pick)
        out.append(feats.float().cpu())  # (B, 4, L) normalised
    feats = torch.cat(out).transpose(1, 2).numpy()  # (n, L, 4)
    return np.asarray(stats.denormalise(feats, clip_pitch=clip_pitch), dtype=np.float32)


@torch.no_grad()
def head_entropy(checkpoint: Path, n: int = 256, seed: int = 0) -> dict[str, float]:
    """Mean per-note entropy (nats) of each one-hot head's softmax over n latents: {name: H}.

    exp(H) is the number of equally likely classes a note is drawn from. Under softmax sampling a
    wide head makes every note an independent draw; under argmax it measures only how sure the
    generator is of the note it plays.
    """
    from ganaudio.models.registry import load_generator

    generator, _ = load_generator(checkpoint, device="cpu")
    z = generator.sample_latent(n, generator=torch.Generator().manual_seed(seed))
    out = {}
    for name, logits in generator.logits(z).items():  # (B, K, L)
        logp = logits.float().log_softmax(1)
        out[name] = float(-(logp.exp() * logp).sum(1).mean())
    return out


def render(cfg: PianoGANConfig, model_dir: Path, notes_dir: Path, out_dir: Path,
           tracker: Tracker = Tracker()) -> dict:
    """Samples as MIDI + WAV + piano rolls beside as many real windows rendered the same way
    (pairs/NN_generated.*, pairs/NN_real.*), 4 real and 4 generated windows on one time scale
    (side_by_side.png), the pitch-only experiment, and a latent interpolation.

    The real windows come from the valid split: held out from training like the test split, which
    only eval_pianogan reads, once (the protocol; a test counts the opens).

    Every WAV goes through one synth (`choose_synth`: a SoundFont piano unless none can run) and
    one loudness normalisation, so a pair differs only by who wrote the notes. The summary (and
    the MLflow run's tags) say which renderer and soundfont were used.
    """
    from ganaudio.audio.midi import choose_synth, notes_to_midi, render_wav, write_midi
    from ganaudio.models.registry import load_generator
    from ganaudio.plots.piano import plot_piano_roll, plot_piano_rolls, plot_side_by_side

    rc = cfg.render
    ckpt = trained_checkpoint(model_dir, KIND)
    stats = NoteStats.from_json(notes_dir / "stats.json")
    pairs = out_dir / "pairs"
    pairs.mkdir(parents=True, exist_ok=True)
    synth = choose_synth(rc.soundfont)
    samples = generate_notes(ckpt, stats, rc.n_samples, rc.seed, pitch_sampling=cfg.model.pitch_sampling)
    real = raw_windows(notes_dir, "valid", rc.n_samples, rc.seed)
    with atomic_path(out_dir / "samples.npz") as tmp:  # the raw notes, before MIDI's tick grid
        with open(tmp, "wb") as f:
            np.savez(f, notes=samples, real=real)
    renderers = set()
    for who, windows in (("generated", samples), ("real", real)):
        for i, notes in enumerate(windows):
            stem = pairs / f"{i:02d}_{who}"
            pm = notes_to_midi(notes)
            write_midi(pm, stem.with_suffix(".mid"))
            renderers.add(render_wav(pm, stem.with_suffix(".wav"), sample_rate=rc.sample_rate, synth=synth))
            plot_piano_roll(notes, stem.with_suffix(".png"), title=f"{who} {i}")
    plot_piano_rolls(list(samples[:8]), out_dir / "samples_grid.png", titles=[f"sample {i}" for i in range(8)])
    plot_side_by_side(list(real[:4]), list(samples[:4]), out_dir / "side_by_side.png")

    # The seed notebook's experiment: keep the generated pitches, hold rhythm to the data's medians.
    held = samples[0].copy()
    held[:, 1] = stats.median_step
    held[:, 2] = stats.median_duration
    pm = notes_to_midi(held)
    write_midi(pm, out_dir / "pitch_only.mid")
    renderers.add(render_wav(pm, out_dir / "pitch_only.wav", sample_rate=rc.sample_rate, synth=synth))
    plot_piano_roll(held, out_dir / "pitch_only.png", title="pitch varies, step and duration at medians")

    # Latent interpolation: a straight line between two latents, one row per point.
    generator, _ = load_generator(ckpt)
    g = torch.Generator().manual_seed(rc.seed + 1)
    z0, z1 = generator.sample_latent(2, generator=g, device="cpu")
    alphas = torch.linspace(0, 1, rc.interpolation_steps)[:, None]
    z = (1 - alphas) * z0 + alphas * z1
    interp = generate_notes(ckpt, stats, len(z), rc.seed, z=z, pitch_sampling=cfg.model.pitch_sampling)
    plot_piano_rolls(list(interp), out_dir / "interpolation.png", titles=[f"alpha={a:.2f}" for a in alphas[:, 0]])
    write_midi(notes_to_midi(np.concatenate(list(interp))), out_dir / "interpolation.mid")

    tracker.log_artifacts(out_dir, "samples")
    used = synth.describe()
    tracker.set_tags({f"render.{k}": str(v) for k, v in used.items()})
    summary = {"samples": int(len(samples)), "real_samples": int(len(real)), "notes_per_sample": int(samples.shape[1]),
               **used, "renderers_used": sorted(renderers), "sample_rate": rc.sample_rate, "checkpoint": str(ckpt)}
    log.info("render: %s", summary)
    return summary


def evaluate(cfg: PianoGANConfig, model_dir: Path, notes_dir: Path, tracker: Tracker = Tracker(),
             split: str = "test", progress: bool = False, peer_dir: Path | None = None) -> dict:
    """Every row of the evaluation table, scored against `split`, and the headline (metrics.headline).

    `peer_dir` (train_pianoar's output) adds the `autoregressive` row: the LSTM a user would pick
    instead, sampled to the same window length and scored by the same code.

    The split is the protocol: model choices (presets, experiments/pianogan_variants.py, any
    checkpoint choice) score against "valid"; only the eval_pianogan stage scores "test", once.
    Generators are sampled with pitches clipped only to MIDI's range, not to the training range,
    so the untrained floor is not piled onto the two edge pitches; the share of notes outside
    the training range is reported beside each generator row.
    """
    from ganaudio.metrics import baselines
    from ganaudio.metrics.music import spread
    from ganaudio.metrics.piano_table import PEER, Scorer, flat_metrics, rows_for, table

    ec = cfg.eval
    stats = NoteStats.from_json(notes_dir / "stats.json")
    train = raw_windows(notes_dir, "train")
    target = raw_windows(notes_dir, split, ec.n_samples, ec.seed)
    log.info("evaluate: %d generated windows per draw, %d draws per row, against %d %s windows",
             ec.n_samples, ec.seeds, len(target), split)
    scorer = Scorer(target, train, copy_run=ec.copy_run)
    checkpoints = judged_checkpoints(model_dir, KIND)  # the files the eval stage tags and promotion judges

    def draw(row: str, seed: int) -> np.ndarray:
        if row in checkpoints:
            return generate_notes(checkpoints[row], stats, ec.n_samples, seed, clip_pitch=False,
                                  pitch_sampling=cfg.model.pitch_sampling)
        if row == PEER:
            from ganaudio.tasks import piano_peer

            return piano_peer.generate_notes(peer_dir, ec.n_samples, target.shape[1], seed)
        if row == "reference":  # the same kind of set as copy_train, drawn apart from it
            return baselines.make("copy_train", train, ec.n_samples, seed + REFERENCE_SEED_OFFSET)
        return baselines.make(row, train, ec.n_samples, seed)

    rows = rows_for(peer=peer_dir is not None)
    draws: dict[str, list[dict]] = {row: [] for row in rows}
    first_trained = None
    with tqdm(total=len(rows) * ec.seeds, desc=f"evaluate vs {split}", disable=not progress) as bar:
        for row in rows:
            for k in range(ec.seeds):
                notes = draw(row, ec.seed + SEED_STRIDE * k)
                scored = scorer.score(notes)
                if row in checkpoints:
                    outside = (notes[..., 0] < stats.pitch_min) | (notes[..., 0] > stats.pitch_max)
                    scored["out_of_range_share"] = float(outside.mean())
                if row == "trained" and first_trained is None:
                    first_trained = notes
                draws[row].append(scored)
                bar.update()
    result = table(draws, split, ec.max_copy_share)
    result["head_entropy"] = {row: head_entropy(path) for row, path in checkpoints.items()}
    result["target"] = {"split": split, "windows": int(len(target)), "novelty": scorer.target_novelty}
    s_gen, s_real = spread(first_trained), spread(target)
    result["spread"] = {name: {"generated": s_gen[name], "real": s_real[name]} for name in s_gen}
    log.info("headline: %s", result["headline"]["verdict"])
    tracker.log_metrics(flat_metrics(result))
    return result
