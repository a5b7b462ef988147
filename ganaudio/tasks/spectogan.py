"""SpectoGAN end to end: train on log-mels, invert to audio, render, and evaluate (the WaveGAN protocol)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ganaudio.config import ClassifierConfig, MelsConfig, RuntimeConfig, SpectoGANConfig, build, to_dict
from ganaudio.data.datasets import MelClips, load_mel_stats
from ganaudio.tasks.common import initial_checkpoint, latest_checkpoint, log_generator
from ganaudio.utils.tracking import Tracker

log = logging.getLogger(__name__)
KIND = "spectogan"


def train(cfg: SpectoGANConfig, runtime: RuntimeConfig, mels_dir: Path, out_dir: Path,
          tracker: Tracker = Tracker()) -> dict:
    from ganaudio.models.registry import build_models
    from ganaudio.training.loop import train_gan

    dataset = MelClips(mels_dir, "train", with_labels=cfg.model.conditional)
    generator, critic = build_models(KIND, cfg.model, cfg.train, dataset.data_shape)
    summary = train_gan(KIND, generator, critic, dataset, cfg.train, out_dir, runtime=runtime, tracker=tracker,
                        model_config=to_dict(cfg.model), data_shape=dataset.data_shape,
                        conditional=cfg.model.conditional)
    if summary["rank"] == 0:  # under torchrun only rank 0 registers the model
        log_generator(tracker, out_dir, KIND)
    return summary


def train_classifier(cfg: ClassifierConfig, runtime: RuntimeConfig, mels_dir: Path, out_path: Path,
                     tracker: Tracker = Tracker()) -> dict:
    from ganaudio.training.classifier import train_classifier as fit
    from ganaudio.utils.device import resolve_device

    splits = [MelClips(mels_dir, s, with_labels=True) for s in ("train", "valid", "test")]
    return fit(*splits, cfg, out_path, device=str(resolve_device(runtime.device)), tracker=tracker,
               progress=runtime.progress)


class Sampler:
    """A checkpoint's generator plus everything needed to turn its output into audio and back."""

    def __init__(self, checkpoint: Path, mels_dir: Path, cfg: SpectoGANConfig, device: str = "cpu"):
        from ganaudio.data.mels import SpectrogramTransform
        from ganaudio.models.registry import load_generator

        self.generator, self.meta = load_generator(checkpoint, device=device)
        self.stats = load_mel_stats(mels_dir)
        self.mel_cfg = build(MelsConfig, self.stats["config"], str(mels_dir / "stats.pt"), "config")
        self.transform = SpectrogramTransform(self.mel_cfg).to(device)
        self.cfg, self.device = cfg, device
        self.conditional = bool(self.meta.get("model_config", {}).get("conditional", False))

    @torch.no_grad()
    def spectrograms(self, n: int, seed: int, labels: torch.Tensor | None = None,
                     z: torch.Tensor | None = None, batch: int = 256) -> torch.Tensor:
        """(n, 1, F, T) normalised spectrograms; conditional models get `labels` (random digits if None)."""
        g = torch.Generator().manual_seed(seed)
        if z is None:
            z = self.generator.sample_latent(n, generator=g, device="cpu")
        if self.conditional and labels is None:
            labels = torch.randint(0, 10, (len(z),), generator=g)
        out = []
        for i in range(0, len(z), batch):
            y = labels[i:i + batch].to(self.device) if self.conditional else None
            out.append(self.generator(z[i:i + batch].to(self.device), y).float().cpu())
        return torch.cat(out)

    @torch.no_grad()
    def to_audio(self, x: torch.Tensor, batch: int = 128, progress: bool = False) -> torch.Tensor:
        from ganaudio.audio.inversion import spectrogram_to_audio

        chunks = []
        for i in tqdm(range(0, len(x), batch), desc="griffin-lim", disable=not progress):
            chunks.append(spectrogram_to_audio(x[i:i + batch].to(self.device), self.stats, self.mel_cfg,
                                               self.cfg.inversion).cpu())
        return torch.cat(chunks)

    @torch.no_grad()
    def to_spectrogram(self, audio: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Audio back to normalised spectrograms, exactly as the mels stage treats a recording."""
        from ganaudio.data.mels import normalise

        out = []
        for i in range(0, len(audio), batch):
            log_mag = self.transform.log_magnitude(audio[i:i + batch].to(self.device))
            out.append(normalise(log_mag, self.stats, self.mel_cfg).unsqueeze(1).cpu())
        return torch.cat(out)


def render(cfg: SpectoGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path, out_dir: Path,
           tracker: Tracker = Tracker()) -> dict:
    import soundfile as sf

    from ganaudio.training.classifier import load_classifier
    from ganaudio.plots.spectrogram import plot_digit_grid, plot_spectrogram, plot_spectrogram_grid
    from ganaudio.utils.io import atomic_path

    rc = cfg.render
    sampler = Sampler(latest_checkpoint(model_dir, KIND), mels_dir, cfg)
    sr = sampler.mel_cfg.sample_rate
    out_dir.mkdir(parents=True, exist_ok=True)
    x = sampler.spectrograms(rc.n_samples, rc.seed)
    audio = sampler.to_audio(x)
    for i, (spec, wav) in enumerate(zip(x, audio)):
        with atomic_path(out_dir / f"sample_{i:02d}.wav") as tmp:
            sf.write(tmp, wav.numpy(), sr, subtype="PCM_16", format="WAV")
        plot_spectrogram(spec[0].numpy(), out_dir / f"sample_{i:02d}.png", title=f"SpectoGAN sample {i}")
    plot_spectrogram_grid(x, out_dir / "samples_grid.png", titles=[f"sample {i}" for i in range(len(x))])

    # Generated vs real per digit, the generated ones labelled by the classifier.
    classifier = load_classifier(classifier_path)
    pool = sampler.spectrograms(max(200, rc.n_samples), rc.seed + 2)
    with torch.no_grad():
        pool_labels = classifier(sampler.to_spectrogram(sampler.to_audio(pool))).argmax(1)
    real = MelClips(mels_dir, "test")
    plot_digit_grid(real.x, real.labels, pool, pool_labels, out_dir / "digits_real_vs_generated.png")

    z0, z1 = sampler.generator.sample_latent(2, generator=torch.Generator().manual_seed(rc.seed + 1), device="cpu")
    alphas = torch.linspace(0, 1, rc.interpolation_steps)[:, None]
    interp = sampler.spectrograms(len(alphas), rc.seed, z=(1 - alphas) * z0 + alphas * z1,
                                  labels=torch.zeros(len(alphas), dtype=torch.long))
    plot_spectrogram_grid(interp, out_dir / "interpolation.png", titles=[f"{a:.2f}" for a in alphas[:, 0]],
                          ncols=len(alphas))
    with atomic_path(out_dir / "interpolation.wav") as tmp:
        sf.write(tmp, sampler.to_audio(interp).flatten().numpy(), sr, subtype="PCM_16", format="WAV")

    tracker.log_artifacts(out_dir, "samples")
    counts = torch.bincount(pool_labels, minlength=10).tolist()
    return {"samples": int(len(x)), "sample_rate": sr, "classified_digit_counts": counts}


def evaluate(cfg: SpectoGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path,
             classifier_metrics: dict | None = None, tracker: Tracker = Tracker(), progress: bool = True) -> dict:
    """IS, FID, NDB/k and nearest-neighbour distances for trained, untrained and real clips."""
    from ganaudio.metrics.audio import frechet_distance, inception_score, ndb_k, nn_distances
    from ganaudio.training.classifier import load_classifier

    ec = cfg.eval
    classifier = load_classifier(classifier_path)
    train = MelClips(mels_dir, "train")
    test = MelClips(mels_dir, "test")

    @torch.no_grad()
    def embed(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        probs, feats = [], []
        for chunk in x.split(512):
            feats.append(classifier.features(chunk))
            probs.append(torch.softmax(classifier(chunk), dim=1))
        return torch.cat(probs).numpy(), torch.cat(feats).numpy()

    _, train_feats = embed(train.x)
    test_probs, test_feats = embed(test.x)

    def figures(probs: np.ndarray, feats: np.ndarray, fid_ref: np.ndarray) -> dict:
        mean, std = inception_score(probs, splits=ec.is_splits, seed=ec.seed)
        bins_diff, ndb = ndb_k(train_feats, feats, k=ec.ndb_bins, seed=ec.seed)
        nn = nn_distances(feats, train_feats)
        return {"inception_score": {"mean": mean, "std": std}, "fid": frechet_distance(feats, fid_ref),
                "ndb_k": ndb, "ndb_bins_different": bins_diff, "d_self": nn["d_self"], "d_train": nn["d_train"]}

    rows = {}
    for name, ckpt in (("trained", latest_checkpoint(model_dir, KIND)), ("untrained", initial_checkpoint(model_dir, KIND))):
        sampler = Sampler(ckpt, mels_dir, cfg)
        x = sampler.spectrograms(ec.n_samples, ec.seed)
        x = sampler.to_spectrogram(sampler.to_audio(x, progress=progress))  # like any recording
        rows[name] = figures(*embed(x), test_feats)
    # Real ceiling: test clips as recorded; FID against train (a different real sample).
    rows["real"] = figures(test_probs, test_feats, train_feats)
    # How much phase recovery alone costs: the test clips through Griffin-Lim and back (the
    # inversion does not involve the generator, so the last sampler serves).
    rows["real_inverted"] = figures(*embed(sampler.to_spectrogram(sampler.to_audio(test.x))), train_feats)

    result = {metric: {row: rows[row][metric] for row in rows} for metric in rows["trained"]}
    result["classifier_test_accuracy"] = (classifier_metrics or {}).get("test_accuracy")
    result["n_samples"] = {"generated": ec.n_samples, "test": int(len(test)), "train": int(len(train))}
    is_t, is_u = rows["trained"]["inception_score"]["mean"], rows["untrained"]["inception_score"]["mean"]
    result["headline"] = {"is_ratio_vs_untrained": is_t / is_u,
                          "fid_ratio_vs_untrained": rows["trained"]["fid"] / rows["untrained"]["fid"]}
    tracker.log_metrics({"inception_score": is_t, "fid": rows["trained"]["fid"], "ndb_k": rows["trained"]["ndb_k"],
                         "d_self": rows["trained"]["d_self"], "d_train": rows["trained"]["d_train"],
                         **{f"headline/{k}": v for k, v in result["headline"].items()}})
    return result
