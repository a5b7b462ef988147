"""SpectoGAN end to end: train on log-mels, invert to audio, render, and evaluate (the WaveGAN protocol)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from tqdm import tqdm

from ganaudio.config import ClassifierConfig, MelsConfig, RuntimeConfig, SpectoGANConfig, build
from ganaudio.data.datasets import MelClips, load_mel_stats
from ganaudio.tasks.common import fit, initial_checkpoint, latest_checkpoint
from ganaudio.tasks.judge import DigitJudge
from ganaudio.utils.tracking import Tracker

log = logging.getLogger(__name__)
KIND = "spectogan"


def train(cfg: SpectoGANConfig, runtime: RuntimeConfig, mels_dir: Path, out_dir: Path,
          tracker: Tracker = Tracker()) -> dict:
    dataset = MelClips(mels_dir, "train", with_labels=cfg.model.conditional)
    return fit(KIND, cfg, runtime, dataset, out_dir, tracker, conditional=cfg.model.conditional)


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
        from ganaudio.models.registry import load_generator

        self.generator, self.meta = load_generator(checkpoint, device=device)
        self.stats = load_mel_stats(mels_dir)
        self.mel_cfg = build(MelsConfig, self.stats["config"], str(mels_dir / "stats.pt"), "config")
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


def render(cfg: SpectoGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path, out_dir: Path,
           tracker: Tracker = Tracker()) -> dict:
    import soundfile as sf

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
    judge = DigitJudge(mels_dir, classifier_path, "test")
    pool = sampler.spectrograms(max(200, rc.n_samples), rc.seed + 2)
    pool_labels = judge.classify(sampler.to_audio(pool))
    real = judge.real
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


def balanced_digits(n: int) -> torch.Tensor:
    """(n,) labels 0, 1, …, 9, 0, 1, …: what a conditional generator is asked for in evaluation."""
    return torch.arange(n) % 10


def evaluate(cfg: SpectoGANConfig, model_dir: Path, mels_dir: Path, classifier_path: Path,
             classifier_metrics: dict | None = None, tracker: Tracker = Tracker(), progress: bool = True,
             split: str = "test", digits_png: Path | None = None) -> dict:
    """IS, FID, NDB/k and nearest-neighbour distances for trained, untrained and real clips.

    `split` is the real split the figures compare with: "valid" to choose a recipe, "test" once.
    A conditional model is asked for every digit equally often (`balanced_digits`), and the
    classifier's readings give its per-digit accuracy and confusion matrix (`digits_png`, also
    logged); for an unconditional one `digits_png` compares the digits heard in its clips with
    the real split's.
    """
    from ganaudio.metrics.audio import digit_confusion

    ec = cfg.eval
    judge = DigitJudge(mels_dir, classifier_path, split, is_splits=ec.is_splits, ndb_bins=ec.ndb_bins, seed=ec.seed)
    rows, heard = {}, {}
    for name, ckpt in (("trained", latest_checkpoint(model_dir, KIND)), ("untrained", initial_checkpoint(model_dir, KIND))):
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
    result = {metric: {row: rows[row][metric] for row in rows} for metric in rows["trained"]}
    result["classifier_test_accuracy"] = (classifier_metrics or {}).get("test_accuracy")
    result["split"] = split
    result["conditional"] = sampler.conditional
    result["n_samples"] = {"generated": ec.n_samples, split: int(len(judge.real)), "train": int(len(judge.train))}
    real_counts = torch.bincount(judge.real.labels, minlength=10).tolist()
    result["heard_digit_counts"] = {"trained": _counts(heard["trained"]), "untrained": _counts(heard["untrained"]),
                                    "real": real_counts}
    is_t, is_u = rows["trained"]["inception_score"]["mean"], rows["untrained"]["inception_score"]["mean"]
    result["headline"] = {"is_ratio_vs_untrained": is_t / is_u,
                          "fid_ratio_vs_untrained": rows["trained"]["fid"] / rows["untrained"]["fid"]}
    flat = {"inception_score": is_t, "fid": rows["trained"]["fid"], "ndb_k": rows["trained"]["ndb_k"],
            "d_self": rows["trained"]["d_self"], "d_train": rows["trained"]["d_train"],
            **{f"headline/{k}": v for k, v in result["headline"].items()}}
    if sampler.conditional:
        result["per_digit_accuracy"] = {name: digit_confusion(asked.numpy(), heard[name]) for name in heard}
        trained = result["per_digit_accuracy"]["trained"]
        flat["digit_accuracy/mean"] = trained["mean"]
        flat.update({f"digit_accuracy/{d}": a for d, a in enumerate(trained["per_digit"])})
    if digits_png is not None:
        from ganaudio.plots.digits import plot_confusion, plot_digit_shares

        if sampler.conditional:
            plot_confusion(result["per_digit_accuracy"]["trained"]["confusion"], digits_png,
                           title=f"generated digits ({split} classifier readings)")
        else:
            plot_digit_shares(result["heard_digit_counts"]["trained"], real_counts, digits_png,
                              title=f"digits heard in generated vs real {split} clips")
        tracker.log_artifact(digits_png)
    tracker.log_metrics(flat)
    return result


def _counts(labels) -> list[int]:
    return torch.bincount(torch.as_tensor(labels), minlength=10).tolist()
