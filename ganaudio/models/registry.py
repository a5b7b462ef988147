"""Build a GAN's two networks from its kind and configs; rebuild a generator from a checkpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganaudio.config import PianoGANModelConfig, SpectoGANModelConfig, TrainConfig, build
from ganaudio.models.pianogan import PianoCritic, PianoGenerator, in_channels
from ganaudio.models.specgan import SpecGANCritic, SpecGANGenerator

MODEL_CONFIGS = {"pianogan": PianoGANModelConfig, "spectogan": SpectoGANModelConfig}


def model_config(kind: str, cfg: Any):
    """The kind's model dataclass from a dataclass or a plain dict (as stored in checkpoints)."""
    if kind not in MODEL_CONFIGS:
        raise ValueError(f"unknown GAN kind {kind!r}; choose one of {sorted(MODEL_CONFIGS)}")
    if isinstance(cfg, dict):
        return build(MODEL_CONFIGS[kind], cfg, "checkpoint", f"{kind}.model")
    if not isinstance(cfg, MODEL_CONFIGS[kind]):
        raise TypeError(f"{kind} needs a {MODEL_CONFIGS[kind].__name__}, got {type(cfg).__name__}")
    return cfg


def build_generator(kind: str, model_cfg: Any, data_shape: tuple, stats: Any = None) -> nn.Module:
    """`stats` (NoteStats) sets the categorical PianoGAN's pitch table; without it the table is
    a zeros placeholder that only a loaded state dict may fill (what `load_generator` does)."""
    cfg = model_config(kind, model_cfg)
    data_shape = tuple(data_shape)
    if kind == "pianogan":
        want = (in_channels(cfg), cfg.seq_len)
        if data_shape != want:
            raise ValueError(f"pianogan data shape {data_shape} != {want} (pitch_head {cfg.pitch_head!r}, "
                             f"seq_len {cfg.seq_len}); make notes.seq_len and pianogan.model.seq_len equal and build "
                             "NoteWindows with pitch_one_hot=True for the categorical head")
        return PianoGenerator(cfg, pitch_values=None if stats is None else standardised_pitches(stats))
    return SpecGANGenerator(cfg, data_shape)


def standardised_pitches(stats: Any) -> torch.Tensor:
    """(128,) the standardised value of every MIDI pitch under NoteStats (pitch is channel 0, not logged)."""
    return (torch.arange(128, dtype=torch.float64) - stats.mean[0]) / stats.std[0]


def build_models(kind: str, model_cfg: Any, train_cfg: TrainConfig, data_shape: tuple,
                 stats: Any = None) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for "pianogan" (data (4 or 131, seq_len)) or "spectogan" (data (1, H, W)).

    The categorical PianoGAN needs `stats` (the NoteStats of its windows) for its pitch table.
    """
    cfg = model_config(kind, model_cfg)
    if kind == "pianogan" and cfg.pitch_head == "categorical" and stats is None:
        raise ValueError("pianogan.model.pitch_head 'categorical' needs stats: pass build_models(..., stats=dataset.stats)")
    generator = build_generator(kind, cfg, data_shape, stats)
    if kind == "pianogan":
        critic = PianoCritic(cfg, spectral_norm=train_cfg.spectral_norm)
    else:
        critic = SpecGANCritic(cfg, tuple(data_shape), spectral_norm=train_cfg.spectral_norm)
    return generator, critic


def load_generator(checkpoint_path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the generator stored in a training checkpoint or generator.pt, in eval mode.

    meta: kind, step, model_config (dict), data_shape (tuple), train_config (dict).
    """
    from ganaudio.training.state import load_checkpoint

    blob = load_checkpoint(checkpoint_path)
    missing = [k for k in ("kind", "generator", "model_config", "data_shape") if k not in blob]
    if missing:
        raise ValueError(f"{checkpoint_path}: missing {', '.join(missing)}; not a ganaudio checkpoint, retrain")
    generator = build_generator(blob["kind"], blob["model_config"], tuple(blob["data_shape"]))
    generator.load_state_dict(blob["generator"])
    generator.to(device).eval()
    meta = {"kind": blob["kind"], "step": blob.get("step", 0), "model_config": dict(blob["model_config"]),
            "data_shape": tuple(blob["data_shape"]), "train_config": dict(blob.get("train_config", {}))}
    return generator, meta


def config_dict(model_cfg: Any) -> dict:
    """A model dataclass as the plain dict checkpoints store (what train_gan's model_config wants)."""
    return dataclasses.asdict(model_cfg)
