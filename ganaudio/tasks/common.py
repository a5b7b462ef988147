"""Pieces both GAN tasks share: finding checkpoints, logging the generator to the model registry."""

from __future__ import annotations

from pathlib import Path

from ganaudio.utils.tracking import CHECKPOINT_TAG, Tracker, file_digest


def latest_checkpoint(model_dir: Path, kind: str) -> Path:
    path = Path(model_dir) / "checkpoints" / "latest.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `dvc repro train_{kind}` first")
    return path


def initial_checkpoint(model_dir: Path, kind: str) -> Path:
    """The step-0 generator, written by the training loop: the 'untrained' row of every evaluation."""
    path = Path(model_dir) / "checkpoints" / "initial.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; rerun `dvc repro -f train_{kind}`")
    return path


def log_generator(tracker: Tracker, model_dir: Path, kind: str) -> None:
    """Register the trained generator as `ganaudio-<kind>` so flows can compare and promote versions."""
    import torch  # here, not at the top: flows find checkpoints through this module without torch

    from ganaudio.models.registry import load_generator

    checkpoint = latest_checkpoint(model_dir, kind)
    generator, meta = load_generator(checkpoint)
    # The eval run that scores this file tags the same digest: how promotion finds this version's numbers.
    tracker.set_tags({CHECKPOINT_TAG: file_digest(checkpoint)})
    z = generator.sample_latent(2, generator=torch.Generator().manual_seed(0), device="cpu")
    conditional = bool(meta.get("model_config", {}).get("conditional", False))
    # pt2 export wants one tensor input; a conditional generator also takes labels, so pickle it.
    tracker.log_model(generator.eval(), "generator", input_example=None if conditional else z.numpy(),
                      registered_name=f"ganaudio-{kind}", serialization_format="pickle" if conditional else "pt2")
