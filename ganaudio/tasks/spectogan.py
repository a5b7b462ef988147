"""SpectoGAN end to end: train on log-mels, invert to audio, render, and evaluate (the WaveGAN protocol)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from tqdm import tqdm

from ganaudio.config import MelsConfig, RuntimeConfig, SpectoGANConfig, build
from ganaudio.data.datasets import MelClips, load_mel_stats
from ganaudio.tasks.common import fit, interpolation_latents, judged_checkpoints, latest_checkpoint, sample, write_wav
from ganaudio.tasks.judge import DigitJudge, report
from ganaudio.utils.tracking import Tracker

log = logging.getLogger(__name__)
KIND = "spectogan"


def train(cfg: SpectoGANConfig, runtime: RuntimeConfig, mels_dir: Path, out_dir: Path,
          tracker: Tracker = Tracker()) -> dict:
    dataset = MelClips(mels_dir, "train", with_labels=cfg.model.conditional)
    return fit(KIND, cfg, runtime, dataset, out_dir, tracker, conditional=cfg.model.conditional)


class Sampler:
    """A checkpoint's generator plus everything needed to turn its output into audio and back."""

    def __init__(self, checkpoint: Path, mels_dir: Path, cfg: SpectoGANConfig, device: str | None = None):
        from ganaudio.models.registry import load_generator
        from ganaudio.utils.device import current_device

        device = device or current_device()
        self.generator, self.meta = load_generator(checkpoint, device=device)
        self.stats = load_mel_stats(mels_dir)
        self.mel_cfg = build(MelsConfig, self.stats["config"], str(mels_dir / "stats.pt"), "config")
        self.cfg, self.device = cfg, device
        self.conditional = bool(self.meta.get("model_config", {}).get("conditional", False))

    def spectrograms(self, n: int, seed: int, labels: torch.Tensor | None = None,
                     z: torch.Tensor | None = None) -> torch.Tensor:
        """(n, 1, F, T) normalised spectrograms; conditional models get `labels` (random digits if None)."""
        return sample(self.generator, n, seed, self.conditional, labels, z, self.device)

    @torch.no_grad()
    def to_audio(self, x: torch.Tensor, batch: int = 128, progress: bool = False) -> torch.Tensor:
        from ganaudio.audio.inversion import spectrogram_to_audio

        chunks = []
        for i in tqdm(range(0, len(x), batch), desc="griffin-lim", disable=not progress):
            chunks.append(spectrogram_to_audio(x[i:i + batch].to(self.device), self.stats, self.mel_cfg,
                                               self.cfg.inversion).cpu())
        return torch.cat(chunks)


def render(cfg: SpectoGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path, out_dir: Path,
           tracker: Tracker = Tracker()) -> dict:
    from ganaudio.plots.spectrogram import plot_digit_grid, plot_spectrogram, plot_spectrogram_grid

    rc = cfg.render
    sampler = Sampler(latest_checkpoint(model_dir, KIND), mels_dir, cfg)
    sr = sampler.mel_cfg.sample_rate
    out_dir.mkdir(parents=True, exist_ok=True)
    x = sampler.spectrograms(rc.n_samples, rc.seed)
    audio = sampler.to_audio(x)
    for i, (spec, wav) in enumerate(zip(x, audio)):
        write_wav(out_dir / f"sample_{i:02d}.wav", wav, sr)
        plot_spectrogram(spec[0].numpy(), out_dir / f"sample_{i:02d}.png", title=f"SpectoGAN sample {i}")
    plot_spectrogram_grid(x, out_dir / "samples_grid.png", titles=[f"sample {i}" for i in range(len(x))])

    # Generated vs real per digit, the generated ones labelled by the classifier.
    judge = DigitJudge(mels_dir, classifier_path, "test")
    pool = sampler.spectrograms(max(200, rc.n_samples), rc.seed + 2)
    pool_labels = judge.classify(sampler.to_audio(pool))
    real = judge.real
    plot_digit_grid(real.x, real.labels, pool, pool_labels, out_dir / "digits_real_vs_generated.png")

    z = interpolation_latents(sampler.generator, rc.interpolation_steps, rc.seed + 1)
    interp = sampler.spectrograms(len(z), rc.seed, z=z, labels=torch.zeros(len(z), dtype=torch.long))
    plot_spectrogram_grid(interp, out_dir / "interpolation.png", ncols=len(z),
                          titles=[f"{a:.2f}" for a in torch.linspace(0, 1, len(z)).tolist()])
    write_wav(out_dir / "interpolation.wav", sampler.to_audio(interp).flatten(), sr)

    tracker.log_artifacts(out_dir, "samples")
    counts = torch.bincount(pool_labels, minlength=10).tolist()
    return {"samples": int(len(x)), "sample_rate": sr, "classified_digit_counts": counts}


def evaluate(cfg: SpectoGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path,
             classifier_metrics: dict | None = None, tracker: Tracker = Tracker(), progress: bool = True,
             split: str = "test") -> dict:
    """IS, FID, NDB/k and nearest-neighbour distances for trained, untrained and real clips.

    `split` is the real split the figures compare with: "valid" to choose a recipe, "test" once.
    """
    ec = cfg.eval
    judge = DigitJudge(mels_dir, classifier_path, split, is_splits=ec.is_splits, ndb_bins=ec.ndb_bins, seed=ec.seed)
    rows = {}
    for name, ckpt in judged_checkpoints(model_dir, KIND).items():
        sampler = Sampler(ckpt, mels_dir, cfg)
        rows[name] = judge.score_audio(sampler.to_audio(sampler.spectrograms(ec.n_samples, ec.seed), progress=progress))
    rows["real"] = judge.score_real()
    # How much phase recovery alone costs: the real clips through Griffin-Lim and back (the
    # inversion does not involve the generator, so the last sampler serves).
    rows["real_inverted"] = judge.figures(*judge.embed(judge.analyse(sampler.to_audio(judge.real.x))),
                                          fid_ref=judge.train_feats)
    return report(rows, judge, ec.n_samples, classifier_metrics, tracker)
