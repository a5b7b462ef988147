"""PianoGAN end to end: train on note windows, render MIDI/WAV/piano rolls, evaluate against the test split."""

from __future__ import annotations

import logging
import statistics
from pathlib import Path

import numpy as np
import torch

from ganaudio.config import PianoGANConfig, RuntimeConfig
from ganaudio.data.datasets import NoteWindows
from ganaudio.data.windows import NoteStats
from ganaudio.models.pianogan import NoteEncoding
from ganaudio.tasks.common import fit, initial_checkpoint, latest_checkpoint
from ganaudio.utils.io import atomic_path
from ganaudio.utils.tracking import Tracker

log = logging.getLogger(__name__)
KIND = "pianogan"


def train(cfg: PianoGANConfig, runtime: RuntimeConfig, notes_dir: Path, out_dir: Path,
          tracker: Tracker = Tracker()) -> dict:
    dataset = NoteWindows(notes_dir, "train", encoding=NoteEncoding.of(cfg.model))
    key_prior = None
    if cfg.model.key_latent:
        from ganaudio.metrics.music import key_statistics

        key_prior = key_statistics(dataset.raw)
    return fit(KIND, cfg, runtime, dataset, out_dir, tracker, stats=dataset.stats, key_prior=key_prior)


@torch.no_grad()
def generate_notes(checkpoint: Path, stats: NoteStats, n: int, seed: int, device: str | None = None,
                   z: torch.Tensor | None = None, pitch_sampling: str | None = None) -> np.ndarray:
    """n samples from a checkpoint's generator as raw notes (n, seq_len, 4): pitch, step, duration, velocity.

    Either pitch head; a categorical one draws pitches with `pitch_sampling` ("softmax", seeded
    by `seed`, or "argmax"; None: the checkpoint's config).
    """
    from ganaudio.models.registry import load_generator
    from ganaudio.utils.device import current_device

    device = device or current_device()
    generator, _ = load_generator(checkpoint, device=device)
    if z is None:  # drawn on the CPU: a seed gives the same latents on any device
        z = generator.sample_latent(n, generator=torch.Generator().manual_seed(seed), device="cpu")
    pick = torch.Generator(device=device).manual_seed(seed + 1)  # the softmax pitch draws
    out = []
    for batch in z.split(256):
        feats = generator.features(batch.to(device), sampling=pitch_sampling, generator=pick)
        out.append(feats.float().cpu())  # (B, 4, L) normalised
    feats = torch.cat(out).transpose(1, 2).numpy()  # (n, L, 4)
    return np.asarray(stats.denormalise(feats), dtype=np.float32)


def render(cfg: PianoGANConfig, model_dir: Path, notes_dir: Path, out_dir: Path,
           tracker: Tracker = Tracker()) -> dict:
    """Samples as MIDI + WAV + piano rolls, the pitch-only experiment, and a latent interpolation."""
    from ganaudio.audio.midi import notes_to_midi, render_wav, write_midi
    from ganaudio.models.registry import load_generator
    from ganaudio.plots.piano import plot_piano_roll, plot_piano_rolls

    rc = cfg.render
    ckpt = latest_checkpoint(model_dir, KIND)
    stats = NoteStats.from_json(notes_dir / "stats.json")
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = generate_notes(ckpt, stats, rc.n_samples, rc.seed, pitch_sampling=cfg.model.pitch_sampling)
    with atomic_path(out_dir / "samples.npz") as tmp:  # the raw notes, before MIDI's tick grid
        with open(tmp, "wb") as f:
            np.savez(f, notes=samples)
    renderers = set()
    for i, notes in enumerate(samples):
        pm = notes_to_midi(notes)
        write_midi(pm, out_dir / f"sample_{i:02d}.mid")
        renderers.add(render_wav(pm, out_dir / f"sample_{i:02d}.wav", sample_rate=rc.sample_rate,
                                 soundfont=rc.soundfont))
        plot_piano_roll(notes, out_dir / f"sample_{i:02d}.png", title=f"PianoGAN sample {i}")
    plot_piano_rolls(list(samples[:8]), out_dir / "samples_grid.png", titles=[f"sample {i}" for i in range(8)])

    # The seed notebook's experiment: keep the generated pitches, hold rhythm to the data's medians.
    held = samples[0].copy()
    held[:, 1] = stats.median_step
    held[:, 2] = stats.median_duration
    pm = notes_to_midi(held)
    write_midi(pm, out_dir / "pitch_only.mid")
    render_wav(pm, out_dir / "pitch_only.wav", sample_rate=rc.sample_rate, soundfont=rc.soundfont)
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
    summary = {"samples": int(len(samples)), "notes_per_sample": int(samples.shape[1]),
               "renderer": sorted(renderers), "checkpoint": str(ckpt)}
    log.info("render: %s", summary)
    return summary


def evaluate(cfg: PianoGANConfig, model_dir: Path, notes_dir: Path, tracker: Tracker = Tracker()) -> dict:
    """MGEval-style distances to the test split, next to the untrained generator and train-vs-test."""
    from ganaudio.metrics.music import distances, spread

    ec = cfg.eval
    stats = NoteStats.from_json(notes_dir / "stats.json")
    test = _raw_windows(notes_dir, "test", ec.n_samples, ec.seed)
    train_ref = _raw_windows(notes_dir, "train", ec.n_samples, ec.seed)
    how = cfg.model.pitch_sampling
    trained = generate_notes(latest_checkpoint(model_dir, KIND), stats, ec.n_samples, ec.seed, pitch_sampling=how)
    untrained = generate_notes(initial_checkpoint(model_dir, KIND), stats, ec.n_samples, ec.seed, pitch_sampling=how)

    d_trained, d_untrained, d_ref = distances(trained, test), distances(untrained, test), distances(train_ref, test)
    table = {name: {"trained": d_trained[name], "untrained": d_untrained[name], "reference": d_ref[name]}
             for name in d_trained}
    closed = {name: gap_closed(**v) for name, v in table.items()}
    s_gen, s_real = spread(trained), spread(test)
    result = {
        "distances": table,
        "gap_closed": closed,
        "median_gap_closed": statistics.median(v for v in closed.values() if v is not None),
        "spread": {name: {"generated": s_gen[name], "real": s_real[name]} for name in s_gen},
        "n_samples": {"generated": int(len(trained)), "test": int(len(test)), "train_reference": int(len(train_ref))},
    }
    flat = {f"dist/{k}": v["trained"] for k, v in table.items()}
    flat.update({f"gap_closed/{k}": v for k, v in closed.items() if v is not None})
    flat["median_gap_closed"] = result["median_gap_closed"]
    tracker.log_metrics(flat)
    return result


def gap_closed(trained: float, untrained: float, reference: float) -> float | None:
    """Share of the untrained-to-reference gap the training closed: 1 = as close as real data, 0 = no gain."""
    gap = untrained - reference
    if abs(gap) < 1e-12:
        return None
    return float((untrained - trained) / gap)



def _raw_windows(notes_dir: Path, split: str, n: int, seed: int) -> np.ndarray:
    with np.load(Path(notes_dir) / f"windows_{split}.npz") as f:
        windows = f["windows"]
    if len(windows) > n:
        windows = windows[np.random.default_rng(seed).choice(len(windows), n, replace=False)]
    return windows.astype(np.float32)
