"""SpectoGAN end to end: train on log-mels, invert to audio, render, and evaluate (the WaveGAN protocol)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from tqdm import tqdm

from ganaudio.config import MelsConfig, RuntimeConfig, SpectoGANConfig, build
from ganaudio.data.datasets import MelClips, load_mel_stats
from ganaudio.audio.wav import write_wav
from ganaudio.tasks.common import (balanced_digits, fit, interpolation_latents, judged_checkpoints, sample,
                                   trained_checkpoint)
from ganaudio.tasks.judge import DigitJudge, add_digit_readings, report
from ganaudio.tracking import Tracker

log = logging.getLogger(__name__)
KIND = "spectogan"


def train(cfg: SpectoGANConfig, runtime: RuntimeConfig, mels_dir: Path, out_dir: Path,
          tracker: Tracker = Tracker(), classifier_path: Path | None = None) -> dict:
    """Train into `out_dir`; with `train.monitor_every`, score on the valid split as it goes
    (`valid_monitor`, which needs the digit classifier at `classifier_path`)."""
    dataset = MelClips(mels_dir, "train", with_labels=cfg.model.conditional)
    monitor = None
    if cfg.train.monitor_every:
        if classifier_path is None:
            raise ValueError("spectogan.train.monitor_every needs the digit classifier: pass classifier_path "
                             "(models/classifier/classifier.pt) or set monitor_every: 0")
        monitor = valid_monitor(cfg, mels_dir, classifier_path)
    return fit(KIND, cfg, runtime, dataset, out_dir, tracker, conditional=cfg.model.conditional, monitor=monitor)


def valid_monitor(cfg: SpectoGANConfig, mels_dir: Path, classifier_path: Path, n_samples: int = 250):
    """A training-loop Monitor: FID (the key), IS and NDB/k of `n_samples` clips against the valid
    split, plus per-digit accuracy for a conditional model. Fewer clips than the eval stage's, so
    noisier: it draws learning curves and keeps best.pt, it does not report results."""
    from ganaudio.metrics.audio import digit_confusion
    from ganaudio.training.loop import Monitor

    ec = cfg.eval
    judge = DigitJudge(mels_dir, classifier_path, "valid", is_splits=ec.is_splits, ndb_bins=ec.ndb_bins, seed=ec.seed)

    def score(generator, step: int) -> dict:
        sampler = Sampler(None, mels_dir, cfg, generator=generator)
        asked = balanced_digits(n_samples) if sampler.conditional else None
        probs, feats = judge.embed(judge.analyse(sampler.to_audio(sampler.spectrograms(n_samples, ec.seed, asked))))
        f = judge.figures(probs, feats)
        out = {"fid": f["fid"], "inception_score": f["inception_score"]["mean"], "ndb_k": f["ndb_k"]}
        if asked is not None:
            out["digit_accuracy"] = digit_confusion(asked.numpy(), probs.argmax(1))["mean"]
        return out

    return Monitor(score, key="fid", higher_is_better=False)


class Sampler:
    """A checkpoint's generator plus everything needed to turn its output into audio and back.

    `generator` (with `checkpoint` None): sample from a module in hand instead, e.g. the one in training.
    """

    def __init__(self, checkpoint: Path | None, mels_dir: Path, cfg: SpectoGANConfig, device: str | None = None,
                 generator: torch.nn.Module | None = None):
        from ganaudio.models.registry import load_generator
        from ganaudio.utils.device import current_device

        if generator is None:
            self.generator, self.meta = load_generator(checkpoint, device=device or current_device())
        else:
            self.generator, self.meta = generator, {"model_config": {"conditional": generator.conditional}}
        device = next(self.generator.parameters()).device
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
    """Listening pairs, spectrogram PNGs, real-vs-generated per digit, and a latent interpolation.

    pairs/NN_generated.wav beside pairs/NN_real.wav: a real test clip of the digit the generated
    one was asked for (conditional) or is heard as (by the classifier), through the same
    Griffin-Lim and the same loudness normalisation, so a pair differs only by the generator.
    """
    from ganaudio.plots.spectrogram import plot_digit_grid, plot_spectrogram, plot_spectrogram_grid

    rc = cfg.render
    sampler = Sampler(trained_checkpoint(model_dir, KIND), mels_dir, cfg)
    sr = sampler.mel_cfg.sample_rate
    pairs = out_dir / "pairs"
    pairs.mkdir(parents=True, exist_ok=True)
    judge = DigitJudge(mels_dir, classifier_path, "test")
    asked = balanced_digits(rc.n_samples) if sampler.conditional else None
    x = sampler.spectrograms(rc.n_samples, rc.seed, labels=asked)
    audio = sampler.to_audio(x)
    digits = asked if asked is not None else judge.classify(audio)  # (n,) the digit each pair is about
    real = judge.real
    pick = torch.Generator().manual_seed(rc.seed)
    real_idx = torch.stack([_one_of(real.labels == d, pick) for d in digits.tolist()])
    real_x = real.x[real_idx]
    real_audio = sampler.to_audio(real_x)
    for i in range(len(x)):
        d = int(digits[i])
        for who, spec, wav in (("generated", x[i], audio[i]), ("real", real_x[i], real_audio[i])):
            stem = pairs / f"{i:02d}_{who}_{d}"
            write_wav(stem.with_suffix(".wav"), wav.numpy(), sr)
            plot_spectrogram(spec[0].numpy(), stem.with_suffix(".png"), title=f"{who} {i} (digit {d})")
    plot_spectrogram_grid(x, out_dir / "samples_grid.png", titles=[f"sample {i}" for i in range(len(x))])

    # Generated vs real per digit, the generated ones labelled by the classifier.
    pool = sampler.spectrograms(max(200, rc.n_samples), rc.seed + 2)
    pool_labels = judge.classify(sampler.to_audio(pool))
    plot_digit_grid(real.x, real.labels, pool, pool_labels, out_dir / "digits_real_vs_generated.png")

    z = interpolation_latents(sampler.generator, rc.interpolation_steps, rc.seed + 1)
    interp = sampler.spectrograms(len(z), rc.seed, z=z, labels=torch.zeros(len(z), dtype=torch.long))
    plot_spectrogram_grid(interp, out_dir / "interpolation.png", ncols=len(z),
                          titles=[f"{a:.2f}" for a in torch.linspace(0, 1, len(z)).tolist()])
    write_wav(out_dir / "interpolation.wav", sampler.to_audio(interp).flatten(), sr)

    tracker.log_artifacts(out_dir, "samples")
    return {"samples": int(len(x)), "real_samples": int(len(real_x)), "sample_rate": sr,
            "conditional": sampler.conditional, "pair_digits": digits.tolist(),
            "pair_real_clips": [real.files[int(i)] for i in real_idx],  # the recording behind each NN_real
            "classified_digit_counts": torch.bincount(pool_labels, minlength=10).tolist()}


def _one_of(mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random index where `mask` is True (any index if none is: a digit missing from the split)."""
    where = mask.nonzero().flatten()
    if len(where) == 0:
        where = torch.arange(len(mask))
    return where[torch.randint(len(where), (1,), generator=generator)[0]]


def evaluate(cfg: SpectoGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path,
             classifier_metrics: dict | None = None, tracker: Tracker = Tracker(), progress: bool = True,
             split: str = "test", digits_png: Path | None = None) -> dict:
    """IS, FID, NDB/k and nearest-neighbour distances for trained, untrained and real clips.

    `split` is the real split the figures compare with: "valid" to choose a recipe, "test" once.
    A conditional model is asked for every digit equally often (`balanced_digits`); the
    classifier's readings of the clips go through `judge.add_digit_readings`.
    """
    ec = cfg.eval
    judge = DigitJudge(mels_dir, classifier_path, split, is_splits=ec.is_splits, ndb_bins=ec.ndb_bins, seed=ec.seed)
    rows, heard = {}, {}
    for name, ckpt in judged_checkpoints(model_dir, KIND).items():
        sampler = Sampler(ckpt, mels_dir, cfg)
        asked = balanced_digits(ec.n_samples) if sampler.conditional else None
        audio = sampler.to_audio(sampler.spectrograms(ec.n_samples, ec.seed, labels=asked), progress=progress)
        probs, feats = judge.embed(judge.analyse(audio))
        rows[name], heard[name] = judge.figures(probs, feats), probs.argmax(1)
    rows["real"] = judge.score_real()
    # How much phase recovery alone costs: the real clips through Griffin-Lim and back (the
    # inversion does not involve the generator, so the last sampler serves).
    rows["real_inverted"] = judge.figures(*judge.embed(judge.analyse(sampler.to_audio(judge.real.x))),
                                          fid_ref=judge.train_feats)
    result = report(rows, judge, ec.n_samples, classifier_metrics, tracker)
    return add_digit_readings(result, heard, asked, judge, tracker, digits_png)
