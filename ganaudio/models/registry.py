"""Build a GAN's two networks from its kind and configs; rebuild a generator from a checkpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganaudio.config import PianoGANModelConfig, SpectoGANModelConfig, TrainConfig, build
from ganaudio.models.pianogan import N_FEATURES, PianoCritic, PianoGenerator
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


def build_generator(kind: str, model_cfg: Any, data_shape: tuple) -> nn.Module:
    cfg = model_config(kind, model_cfg)
    data_shape = tuple(data_shape)
    if kind == "pianogan":
        if data_shape != (N_FEATURES, cfg.seq_len):
            raise ValueError(f"pianogan data shape {data_shape} != ({N_FEATURES}, pianogan.model.seq_len={cfg.seq_len}); "
                             "make notes.seq_len and pianogan.model.seq_len equal")
        return PianoGenerator(cfg)
    return SpecGANGenerator(cfg, data_shape)


def build_models(kind: str, model_cfg: Any, train_cfg: TrainConfig, data_shape: tuple) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for "pianogan" (data (4, seq_len)) or "spectogan" (data (1, H, W))."""
    cfg = model_config(kind, model_cfg)
    generator = build_generator(kind, cfg, data_shape)
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
