"""Pieces the GAN tasks share: finding checkpoints, sampling, writing audio, logging the generator."""

from __future__ import annotations

from pathlib import Path

import torch

from ganaudio.utils.tracking import Tracker


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


def judged_checkpoints(model_dir: Path, kind: str) -> dict[str, Path]:
    """The rows every evaluation scores: the trained generator and its step-0 self."""
    return {"trained": latest_checkpoint(model_dir, kind), "untrained": initial_checkpoint(model_dir, kind)}


@torch.no_grad()
def sample(generator, n: int, seed: int, conditional: bool, labels: torch.Tensor | None = None,
           z: torch.Tensor | None = None, device: str | torch.device = "cpu", batch: int = 256) -> torch.Tensor:
    """n outputs of `generator` (or one per row of `z`), on the CPU, reproducible from `seed`.

    A conditional generator gets `labels`, or random digits drawn from the same seed.
    """
    g = torch.Generator().manual_seed(seed)
    if z is None:
        z = generator.sample_latent(n, generator=g, device="cpu")
    if conditional and labels is None:
        labels = torch.randint(0, 10, (len(z),), generator=g)
    out = []
    for i in range(0, len(z), batch):
        y = labels[i:i + batch].to(device) if conditional else None
        out.append(generator(z[i:i + batch].to(device), y).float().cpu())
    return torch.cat(out)


def interpolation_latents(generator, steps: int, seed: int) -> torch.Tensor:
    """(steps, Z): a straight line between two latents drawn from `seed`, both ends included."""
    z0, z1 = generator.sample_latent(2, generator=torch.Generator().manual_seed(seed), device="cpu")
    alphas = torch.linspace(0, 1, steps)[:, None]
    return (1 - alphas) * z0 + alphas * z1


def write_wav(path: Path, audio: torch.Tensor, sample_rate: int) -> Path:
    """(S,) float audio in [-1, 1] -> 16-bit PCM WAV, written atomically."""
    import soundfile as sf

    from ganaudio.utils.io import atomic_path

    with atomic_path(path) as tmp:
        sf.write(tmp, audio.detach().cpu().numpy(), sample_rate, subtype="PCM_16", format="WAV")
    return Path(path)


def log_generator(tracker: Tracker, model_dir: Path, kind: str) -> None:
    """Register the trained generator as `ganaudio-<kind>` so flows can compare and promote versions."""
    from ganaudio.models.registry import load_generator

    generator, meta = load_generator(latest_checkpoint(model_dir, kind))
    z = generator.sample_latent(2, generator=torch.Generator().manual_seed(0), device="cpu")
    conditional = bool(meta.get("model_config", {}).get("conditional", False))
    # pt2 export wants one tensor input; a conditional generator also takes labels, so pickle it.
    tracker.log_model(generator.eval(), "generator", input_example=None if conditional else z.numpy(),
                      registered_name=f"ganaudio-{kind}", serialization_format="pickle" if conditional else "pt2")
