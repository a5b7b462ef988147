"""WaveGAN end to end: train on raw waveforms, render, and evaluate exactly as SpectoGAN is evaluated.

The generator's audio needs no inversion: the judge (`tasks.judge.DigitJudge`) analyses it as
the mels stage analyses a recording and scores it with the same classifier, so WaveGAN's rows
and SpectoGAN's are comparable line by line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ganaudio.config import RuntimeConfig, WaveGANConfig
from ganaudio.data.datasets import WaveClips
from ganaudio.audio.wav import write_wav
from ganaudio.tasks.common import (balanced_digits, fit, interpolation_latents, judged_checkpoints, sample,
                                   trained_checkpoint)
from ganaudio.tracking import Tracker

log = logging.getLogger(__name__)
KIND = "wavegan"
MONITOR_SAMPLES, MONITOR_SEED = 500, 3  # clips the training monitor scores against valid, and their latents' seed


def train(cfg: WaveGANConfig, runtime: RuntimeConfig, waves_dir: Path, out_dir: Path, tracker: Tracker = Tracker(),
          mels_dir: Path | None = None, classifier_path: Path | None = None) -> dict:
    """Train with the shared loop. With `train.monitor_every`, the generator is scored against the
    valid split (FID with the judge's classifier, so `mels_dir` and `classifier_path` are needed)
    every that many steps; best.pt keeps the best and `train.monitor_patience` stops a run that
    no longer improves: the "done" signal."""
    dataset = WaveClips(waves_dir, "train", with_labels=cfg.model.conditional)
    monitor = None
    if cfg.train.monitor_every:
        if mels_dir is None or classifier_path is None:
            raise ValueError("wavegan.train.monitor_every needs the mels folder and the classifier "
                             "(--mels, --classifier) to score the valid split; or set it to 0")
        from ganaudio.tasks.judge import DigitJudge, valid_monitor

        judge = DigitJudge(mels_dir, classifier_path, "valid", seed=cfg.eval.seed)
        monitor = valid_monitor(judge, lambda g: sample(g, MONITOR_SAMPLES, MONITOR_SEED, cfg.model.conditional,
                                                        device=next(g.parameters()).device)[:, 0])
    mel_stats = None
    if cfg.model.mel_critic:
        from ganaudio.models.wave_mel_critic import mel_statistics

        mel_stats = mel_statistics(dataset.x)  # the training clips' own: the critic's view depends on nothing else
    return fit(KIND, cfg, runtime, dataset, out_dir, tracker, conditional=cfg.model.conditional, monitor=monitor,
               mel_stats=mel_stats)


class Sampler:
    """A checkpoint's generator, as audio."""

    def __init__(self, checkpoint: Path, device: str | None = None):
        from ganaudio.models.registry import load_generator
        from ganaudio.utils.device import current_device

        device = device or current_device()
        self.generator, self.meta = load_generator(checkpoint, device=device)
        self.device = device
        self.conditional = bool(self.meta.get("model_config", {}).get("conditional", False))

    def audio(self, n: int, seed: int, labels: torch.Tensor | None = None,
              z: torch.Tensor | None = None) -> torch.Tensor:
        """(n, 16384) waveforms in [-1, 1]; conditional models get `labels` (random digits if None)."""
        return sample(self.generator, n, seed, self.conditional, labels, z, self.device)[:, 0]


def render(cfg: WaveGANConfig, model_dir: Path, waves_dir: Path, mels_dir: Path, classifier_path: Path,
           out_dir: Path, tracker: Tracker = Tracker()) -> dict:
    """WAVs with waveform+spectrogram PNGs, real-vs-generated pairs per digit, a latent interpolation."""
    from ganaudio.plots.spectrogram import plot_digit_grid
    from ganaudio.plots.waveform import plot_waveform, plot_waveform_grid, plot_waveform_pairs
    from ganaudio.tasks.judge import DigitJudge

    rc = cfg.render
    sampler = Sampler(trained_checkpoint(model_dir, KIND))
    judge = DigitJudge(mels_dir, classifier_path, "test")
    sr = judge.sample_rate
    out_dir.mkdir(parents=True, exist_ok=True)

    audio = sampler.audio(rc.n_samples, rc.seed)  # (N, S)
    specs = judge.analyse(audio)  # (N, 1, F, T): what the classifier sees
    for i, (wav, spec) in enumerate(zip(audio, specs)):
        write_wav(out_dir / f"sample_{i:02d}.wav", wav, sr)
        plot_waveform(wav, spec, out_dir / f"sample_{i:02d}.png", sr, title=f"WaveGAN sample {i}")
    plot_waveform_grid(audio, out_dir / "samples_grid.png", sr, titles=[f"sample {i}" for i in range(len(audio))])

    # Real vs generated per digit, the generated clips labelled by the classifier; one WAV pair per digit.
    pool = sampler.audio(max(200, rc.n_samples), rc.seed + 2)
    pool_labels = judge.classify(pool)
    real = WaveClips(waves_dir, "test")
    plot_digit_grid(judge.real.x, judge.real.labels, judge.analyse(pool), pool_labels,
                    out_dir / "digits_real_vs_generated.png")
    plot_waveform_pairs(real.x, real.labels, pool, pool_labels, out_dir / "waveforms_real_vs_generated.png", sr)
    for digit in range(10):
        fake = (pool_labels == digit).nonzero().flatten()
        if len(fake):
            write_wav(out_dir / "pairs" / f"digit_{digit}_real.wav", real.x[real.labels == digit][0, 0], sr)
            write_wav(out_dir / "pairs" / f"digit_{digit}_generated.wav", pool[fake[0]], sr)

    z = interpolation_latents(sampler.generator, rc.interpolation_steps, rc.seed + 1)
    interp = sampler.audio(len(z), rc.seed, z=z, labels=torch.zeros(len(z), dtype=torch.long))
    plot_waveform_grid(interp, out_dir / "interpolation.png", sr, ncols=len(z),
                       titles=[f"{a:.2f}" for a in torch.linspace(0, 1, len(z)).tolist()])
    write_wav(out_dir / "interpolation.wav", interp.flatten(), sr)

    tracker.log_artifacts(out_dir, "samples")
    counts = torch.bincount(pool_labels, minlength=10).tolist()
    rms = audio.square().mean(1).sqrt()
    return {"samples": int(len(audio)), "sample_rate": sr, "classified_digit_counts": counts,
            "median_rms": float(rms.median()), "real_median_rms": float(real.x.square().mean((1, 2)).sqrt().median())}


def evaluate(cfg: WaveGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path,
             classifier_metrics: dict | None = None, tracker: Tracker = Tracker(), split: str = "test",
             digits_png: Path | None = None) -> dict:
    """IS, FID, NDB/k and nearest-neighbour distances for trained, untrained and real clips, and the
    digits the classifier hears in them (`judge.add_digit_readings`), as SpectoGAN's evaluation.

    `split` is the real split the figures compare with: "valid" to choose a recipe, "test" once.
    A conditional model is asked for every digit equally often.
    """
    from ganaudio.tasks.judge import DigitJudge, add_digit_readings, report

    ec = cfg.eval
    judge = DigitJudge(mels_dir, classifier_path, split, is_splits=ec.is_splits, ndb_bins=ec.ndb_bins, seed=ec.seed)
    rows, heard, asked = {}, {}, None
    for name, ckpt in judged_checkpoints(model_dir, KIND).items():
        sampler = Sampler(ckpt)
        asked = balanced_digits(ec.n_samples) if sampler.conditional else None
        probs, feats = judge.embed(judge.analyse(sampler.audio(ec.n_samples, ec.seed, labels=asked)))
        rows[name], heard[name] = judge.figures(probs, feats), probs.argmax(1)
    rows["real"] = judge.score_real()
    result = report(rows, judge, ec.n_samples, classifier_metrics, tracker)
    return add_digit_readings(result, heard, asked, judge, tracker, digits_png)
