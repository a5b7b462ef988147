"""Pieces every GAN task shares: seeded training, finding checkpoints, sampling, writing audio,
logging to the model registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganaudio.config import RuntimeConfig, to_dict
from ganaudio.errors import MissingInputError
from ganaudio.tracking import CHECKPOINT_TAG, Tracker, file_digest

if TYPE_CHECKING:  # annotations only: flows import this module without torch
    import torch


def fit(kind: str, cfg: Any, runtime: RuntimeConfig, dataset, out_dir: Path, tracker: Tracker = Tracker(), *,
        conditional: bool = False, monitor=None, warm_start=None, **build_kwargs) -> dict:
    """Seed, build the kind's models from `cfg.model`, warm-start them if `cfg.train.init_from` says
    so, train them with the shared loop, and register the generator (rank 0).

    Seeding before building is what makes equal params give bit-equal initial weights.
    `warm_start(generator) -> WarmStart`, when `init_from` is unset: a task's own starting weights
    made from the freshly built generator (PianoGAN's recurrent generator from its peer).
    """
    from ganaudio.models.registry import build_models
    from ganaudio.training.loop import train_gan
    from ganaudio.training.warm_start import resolve_warm_start
    from ganaudio.utils.device import seed_everything

    seed_everything(cfg.train.seed)
    generator, critic = build_models(kind, cfg.model, cfg.train, dataset.data_shape, **build_kwargs)
    if cfg.train.init_from is None and warm_start is not None:
        warm = warm_start(generator)
    else:
        warm = resolve_warm_start(cfg.train.init_from, kind)
    tracker.set_tags({"train.init_from": "scratch" if warm is None else str(warm.describe.get("from")),
                      **({"train.init_from.version": str(warm.describe["version"])}
                         if warm is not None and "version" in warm.describe else {})})
    summary = train_gan(kind, generator, critic, dataset, cfg.train, out_dir, runtime=runtime, tracker=tracker,
                        model_config=to_dict(cfg.model), data_shape=dataset.data_shape, conditional=conditional,
                        monitor=monitor, warm_start=warm)
    summary["init_from"] = None if warm is None else warm.describe
    if summary["rank"] == 0:  # under torchrun only rank 0 registers the model
        log_generator(tracker, out_dir, kind)
    return summary


def latest_checkpoint(model_dir: Path, kind: str) -> Path:
    path = Path(model_dir) / "checkpoints" / "latest.pt"
    if not path.exists():
        raise MissingInputError(f"{path} is missing; run `dvc repro train_{kind}` first")
    return path


def initial_checkpoint(model_dir: Path, kind: str) -> Path:
    """The step-0 generator, written by the training loop: the 'untrained' row of every evaluation."""
    path = Path(model_dir) / "checkpoints" / "initial.pt"
    if not path.exists():
        raise MissingInputError(f"{path} is missing; rerun `dvc repro -f train_{kind}`")
    return path


def trained_checkpoint(model_dir: Path, kind: str) -> Path:
    """The generator a run delivers: best.pt (the best valid score the training monitor saw) when
    the run kept one, else latest.pt. What is rendered, evaluated and registered."""
    best = Path(model_dir) / "best.pt"
    return best if best.exists() else latest_checkpoint(model_dir, kind)


def judged_checkpoints(model_dir: Path, kind: str) -> dict[str, Path]:
    """The rows every evaluation scores: the trained generator and its step-0 self."""
    return {"trained": trained_checkpoint(model_dir, kind), "untrained": initial_checkpoint(model_dir, kind)}


def sample(generator, n: int, seed: int, conditional: bool, labels: torch.Tensor | None = None,
           z: torch.Tensor | None = None, device: str | torch.device = "cpu", batch: int = 256) -> torch.Tensor:
    """n outputs of `generator` (or one per row of `z`), on the CPU, reproducible from `seed`.

    A conditional generator gets `labels`, or random digits drawn from the same seed.
    """
    import torch  # here, not at the top: flows import this module without torch

    from ganaudio.utils.device import autocast

    g = torch.Generator().manual_seed(seed)
    if z is None:
        z = generator.sample_latent(n, generator=g, device="cpu")
    if conditional and labels is None:
        labels = torch.randint(0, 10, (len(z),), generator=g)
    out = []
    for i in range(0, len(z), batch):
        y = labels[i:i + batch].to(device) if conditional else None
        with torch.no_grad(), autocast(torch.device(device)):  # runtime.precision
            out.append(generator(z[i:i + batch].to(device), y).float().cpu())
    return torch.cat(out)


def interpolation_latents(generator, steps: int, seed: int) -> torch.Tensor:
    """(steps, Z): a straight line between two latents drawn from `seed`, both ends included."""
    import torch

    z0, z1 = generator.sample_latent(2, generator=torch.Generator().manual_seed(seed), device="cpu")
    alphas = torch.linspace(0, 1, steps)[:, None]
    return (1 - alphas) * z0 + alphas * z1


def log_generator(tracker: Tracker, model_dir: Path, kind: str) -> None:
    """Register the trained generator as `ganaudio-<kind>` so flows can compare and promote versions.

    The full checkpoint goes along as the run artifact `checkpoint/latest.pt`: what
    `train.init_from: champion` fine-tunes from.
    """
    import torch  # here, not at the top: flows find checkpoints through this module without torch

    from ganaudio.models.registry import load_generator
    from ganaudio.training.warm_start import CHECKPOINT_ARTIFACT

    tracker.log_artifact(latest_checkpoint(model_dir, kind), CHECKPOINT_ARTIFACT)  # the full state, to fine-tune from
    checkpoint = trained_checkpoint(model_dir, kind)  # what render and eval use, and what is registered
    # The eval run that scores this file tags the same digest: how promotion finds this version's numbers.
    tracker.set_tags({CHECKPOINT_TAG: file_digest(checkpoint)})
    generator, meta = load_generator(checkpoint)
    z = generator.sample_latent(2, generator=torch.Generator().manual_seed(0), device="cpu")
    conditional = bool(meta.get("model_config", {}).get("conditional", False))
    # pt2 export wants one tensor input; a conditional generator also takes labels, so pickle it.
    tracker.log_model(generator.eval(), "generator", input_example=None if conditional else z.numpy(),
                      registered_name=f"ganaudio-{kind}", serialization_format="pickle" if conditional else "pt2")


def balanced_digits(n: int) -> torch.Tensor:
    """(n,) labels 0, 1, …, 9, 0, 1, …: what a conditional digit generator is asked for in evaluation."""
    import torch

    return torch.arange(n) % 10
