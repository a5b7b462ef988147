"""The digit classifier every audio GAN is judged by (WaveGAN's protocol): trained on the real mels.

Kept apart from the GAN tasks so a change to a GAN's code does not retrain the judge.
"""

from __future__ import annotations

from pathlib import Path

from ganaudio.config import ClassifierConfig, RuntimeConfig
from ganaudio.data.datasets import MelClips
from ganaudio.tracking import Tracker


def train_classifier(cfg: ClassifierConfig, runtime: RuntimeConfig, mels_dir: Path, out_path: Path,
                     tracker: Tracker = Tracker()) -> dict:
    from ganaudio.training.classifier import train_classifier as fit
    from ganaudio.utils.device import resolve_device

    splits = [MelClips(mels_dir, s, with_labels=True) for s in ("train", "valid", "test")]
    return fit(*splits, cfg, out_path, device=str(resolve_device(runtime.device)), tracker=tracker,
               progress=runtime.progress)
