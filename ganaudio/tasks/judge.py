"""The WaveGAN evaluation protocol for any generator of 1 s digit audio (SpectoGAN, WaveGAN).

Audio is analysed exactly as the mels stage analyses a recording, then scored by the digit
classifier trained on real clips: Inception Score, FID against a real split, NDB/k on k-means
bins of the training features, and nearest-neighbour distances (D_self, D_train). Every
generator is judged by the same object, so the rows of different GANs are comparable.

`split` says which real split the scores compare with: "valid" while choosing a recipe, "test"
once, for the reported numbers (the eval stages).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ganaudio.config import MelsConfig, build
from ganaudio.data.datasets import MelClips, load_mel_stats

SPLITS = ("valid", "test")


class DigitJudge:
    def __init__(self, mels_dir: Path, classifier_path: Path, split: str = "test", *, is_splits: int = 10,
                 ndb_bins: int = 50, seed: int = 0, device: str | torch.device | None = None):
        from ganaudio.data.mels import SpectrogramTransform
        from ganaudio.training.classifier import load_classifier
        from ganaudio.utils.device import current_device

        if split not in SPLITS:
            raise ValueError(f"judge split {split!r}: use one of {SPLITS} (train is what the GAN saw)")
        mels_dir = Path(mels_dir)
        self.split, self.device = split, torch.device(device or current_device())
        self.is_splits, self.ndb_bins, self.seed = is_splits, ndb_bins, seed
        self.stats = load_mel_stats(mels_dir)
        self.mel_cfg = build(MelsConfig, self.stats["config"], str(mels_dir / "stats.pt"), "config")
        self.transform = SpectrogramTransform(self.mel_cfg).to(self.device)
        self.classifier = load_classifier(classifier_path).to(self.device).eval()
        self.train = MelClips(mels_dir, "train")
        self.real = MelClips(mels_dir, split)
        _, self.train_feats = self.embed(self.train.x)
        self.real_probs, self.real_feats = self.embed(self.real.x)

    @property
    def sample_rate(self) -> int:
        return self.mel_cfg.sample_rate

    @property
    def n_samples(self) -> int:
        """Audio samples per clip the analysis expects (hop · frames: 16,384 at both presets)."""
        return self.mel_cfg.hop_length * self.mel_cfg.n_frames

    @torch.no_grad()
    def analyse(self, audio: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """(N, S) audio -> (N, 1, F, T) normalised spectrograms, exactly as the mels stage treats a recording."""
        from ganaudio.data.mels import normalise

        out = []
        for i in range(0, len(audio), batch):
            log_mag = self.transform.log_magnitude(audio[i:i + batch].to(self.device))
            out.append(normalise(log_mag, self.stats, self.mel_cfg).unsqueeze(1).cpu())
        return torch.cat(out)

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Spectrograms (N, 1, F, T) -> (softmax probabilities (N, 10), penultimate features (N, D))."""
        from ganaudio.utils.device import autocast

        probs, feats = [], []
        for chunk in x.split(batch):
            chunk = chunk.to(self.device)
            with autocast(self.device):  # runtime.precision
                feats.append(self.classifier.features(chunk).float().cpu())
                probs.append(torch.softmax(self.classifier(chunk).float(), dim=1).cpu())
        return torch.cat(probs).numpy(), torch.cat(feats).numpy()

    def figures(self, probs: np.ndarray, feats: np.ndarray, fid_ref: np.ndarray | None = None) -> dict:
        """IS, FID (against the judge's real split unless `fid_ref`), NDB/k, D_self and D_train."""
        from ganaudio.metrics.audio import frechet_distance, inception_score, ndb_k, nn_distances

        mean, std = inception_score(probs, splits=self.is_splits, seed=self.seed)
        bins_diff, ndb = ndb_k(self.train_feats, feats, k=self.ndb_bins, seed=self.seed)
        nn = nn_distances(feats, self.train_feats)
        ref = self.real_feats if fid_ref is None else fid_ref
        return {"inception_score": {"mean": mean, "std": std}, "fid": frechet_distance(feats, ref),
                "ndb_k": ndb, "ndb_bins_different": bins_diff, "d_self": nn["d_self"], "d_train": nn["d_train"]}

    def score_audio(self, audio: torch.Tensor) -> dict:
        """The figures of generated (or re-synthesised) audio (N, S) against the real split."""
        return self.figures(*self.embed(self.analyse(audio)))

    def score_real(self) -> dict:
        """The ceiling: the real split as recorded, FID against train (another real sample)."""
        return self.figures(self.real_probs, self.real_feats, fid_ref=self.train_feats)

    def classify(self, audio: torch.Tensor) -> torch.Tensor:
        """The digit the classifier hears in each clip (N,) int64."""
        probs, _ = self.embed(self.analyse(audio))
        return torch.from_numpy(probs.argmax(1))


def report(rows: dict[str, dict], judge: DigitJudge, n_generated: int, classifier_metrics: dict | None = None,
           tracker=None) -> dict:
    """metrics.json of a digit GAN from its rows (trained, untrained, real, …, each `DigitJudge.figures`).

    One layout for every digit GAN: {metric: {row: value}}, the split, the sample counts, and the
    headline ratios of trained to untrained. The trained row's figures go to `tracker`.
    """
    result = {metric: {row: rows[row][metric] for row in rows} for metric in rows["trained"]}
    result["classifier_test_accuracy"] = (classifier_metrics or {}).get("test_accuracy")
    result["split"] = judge.split
    result["n_samples"] = {"generated": n_generated, judge.split: int(len(judge.real)), "train": int(len(judge.train))}
    trained, untrained = rows["trained"], rows["untrained"]
    is_t = trained["inception_score"]["mean"]
    result["headline"] = {"is_ratio_vs_untrained": is_t / untrained["inception_score"]["mean"],
                          "fid_ratio_vs_untrained": trained["fid"] / untrained["fid"]}
    if tracker is not None:
        tracker.log_metrics({"inception_score": is_t, "fid": trained["fid"], "ndb_k": trained["ndb_k"],
                             "d_self": trained["d_self"], "d_train": trained["d_train"],
                             **{f"headline/{k}": v for k, v in result["headline"].items()}})
    return result


def add_digit_readings(result: dict, heard: dict[str, np.ndarray], asked: torch.Tensor | None, judge: DigitJudge,
                       tracker=None, digits_png: Path | None = None) -> dict:
    """Which digits the classifier hears in each row's clips (`heard`: row -> (N,) labels), into `result`.

    A conditional model (`asked`: the labels it was given) also gets its per-digit accuracy and
    confusion matrix (`digits_png`, also logged); for an unconditional one `digits_png` compares
    the digits heard in its clips with the real split's. One protocol for both digit GANs.
    """
    from ganaudio.metrics.audio import digit_confusion

    real_counts = torch.bincount(judge.real.labels, minlength=10).tolist()
    result["conditional"] = asked is not None
    result["heard_digit_counts"] = {**{name: _counts(labels) for name, labels in heard.items()}, "real": real_counts}
    if asked is not None:
        result["per_digit_accuracy"] = {name: digit_confusion(asked.numpy(), labels) for name, labels in heard.items()}
        trained = result["per_digit_accuracy"]["trained"]
        if tracker is not None:
            tracker.log_metrics({"digit_accuracy/mean": trained["mean"],
                                 **{f"digit_accuracy/{d}": a for d, a in enumerate(trained["per_digit"])}})
    if digits_png is not None:
        from ganaudio.plots.digits import plot_confusion, plot_digit_shares

        if asked is not None:
            plot_confusion(result["per_digit_accuracy"]["trained"]["confusion"], digits_png,
                           title=f"generated digits ({judge.split} classifier readings)")
        else:
            plot_digit_shares(result["heard_digit_counts"]["trained"], real_counts, digits_png,
                              title=f"digits heard in generated vs real {judge.split} clips")
        if tracker is not None:
            tracker.log_artifact(digits_png)
    return result


def _counts(labels) -> list[int]:
    return torch.bincount(torch.as_tensor(labels), minlength=10).tolist()


def valid_monitor(judge: DigitJudge, audio_of: Callable[[torch.nn.Module], torch.Tensor]):
    """The training loop's `Monitor` for a digit GAN: FID (lower is better: the key that keeps
    best.pt and decides early stopping) and IS of `audio_of(generator)` (N, S) against the judge's split."""
    from ganaudio.training.loop import Monitor

    if judge.split != "valid":
        raise ValueError(f"a training monitor scores against valid, not {judge.split}: test is for the report")

    def score(generator: torch.nn.Module, step: int) -> dict:
        audio = audio_of(generator)
        figs = judge.score_audio(audio)
        return {"fid": figs["fid"], "inception_score": figs["inception_score"]["mean"],
                "median_rms": float(audio.float().square().mean(1).sqrt().median())}

    return Monitor(score, key="fid", higher_is_better=False)
