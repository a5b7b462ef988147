"""Build a GAN's two networks from its kind and configs; rebuild a generator from a checkpoint.

Each kind's model module is imported only when that kind is built, so a stage of one GAN does
not load (and so, in dvc.yaml, does not depend on) another GAN's network code.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganaudio import config
from ganaudio.config import TrainConfig, build
from ganaudio.errors import BadInputError, MissingInputError

# By name: `ganaudio.config` imports a kind's config module only when that kind is built.
MODEL_CONFIGS = {"pianogan": "PianoGANModelConfig", "spectogan": "SpectoGANModelConfig", "wavegan": "WaveGANModelConfig"}


def model_config(kind: str, cfg: Any):
    """The kind's model dataclass from a dataclass or a plain dict (as stored in checkpoints)."""
    if kind not in MODEL_CONFIGS:
        raise ValueError(f"unknown GAN kind {kind!r}; choose one of {sorted(MODEL_CONFIGS)}")
    cls = getattr(config, MODEL_CONFIGS[kind])
    if isinstance(cfg, dict):
        return build(cls, cfg, "checkpoint", f"{kind}.model")
    if not isinstance(cfg, cls):
        raise TypeError(f"{kind} needs a {cls.__name__}, got {type(cfg).__name__}")
    return cfg


def build_generator(kind: str, model_cfg: Any, data_shape: tuple, stats: Any = None,
                    key_prior: tuple | None = None) -> nn.Module:
    """`stats` (NoteStats) sets a PianoGAN's one-hot value tables; without it they are zeros
    placeholders that only a loaded state dict may fill (what `load_generator` does)."""
    cfg = model_config(kind, model_cfg)
    data_shape = tuple(data_shape)
    if kind == "pianogan":
        from ganaudio.models.pianogan import NoteEncoding, PianoGenerator, in_channels

        want = (in_channels(cfg), cfg.seq_len)
        if data_shape != want:
            raise ValueError(f"pianogan data shape {data_shape} != {want} (pitch_head {cfg.pitch_head!r}, "
                             f"time_head {cfg.time_head!r}, seq_len {cfg.seq_len}); make notes.seq_len and "
                             "pianogan.model.seq_len equal and build NoteWindows with encoding=NoteEncoding.of(cfg)")
        values = None if stats is None else standardised_values(stats, NoteEncoding.of(cfg))
        pitch_range = None if stats is None else (stats.pitch_min, stats.pitch_max)
        if cfg.generator == "rnn":
            from ganaudio.models.piano_rnn import PianoRNNGenerator

            return PianoRNNGenerator(cfg, values=values, pitch_range=pitch_range)  # no key latent: the recurrence carries the key
        return PianoGenerator(cfg, values=values, key_prior=key_prior, pitch_range=pitch_range)
    if kind == "wavegan":
        from ganaudio.models.wavegan import WaveGANGenerator

        return WaveGANGenerator(cfg, data_shape)
    from ganaudio.models.specgan import SpecGANGenerator

    return SpecGANGenerator(cfg, data_shape)


def standardised_values(stats: Any, encoding) -> dict[str, torch.Tensor]:
    """{name: (classes,)} the standardised value of every class of each one-hot feature under NoteStats.

    Pitch classes are the MIDI pitches 0..127; time classes stand for their bins' seconds
    (`time_values`). Each goes through `stats.normalise` like a real note would. `encoding`: a NoteEncoding.
    """
    from ganaudio.models.pianogan import time_values

    out = {}
    if encoding.pitch_one_hot:
        raw = np.zeros((128, 4))
        raw[:, 0], raw[:, 1:] = np.arange(128), 1.0
        out["pitch"] = torch.from_numpy(np.asarray(stats.normalise(raw))[:, 0].copy())
    if encoding.time_bins:
        for i, name in ((1, "step"), (2, "duration")):
            raw = np.ones((encoding.time_bins, 4))
            raw[:, i] = time_values(name, encoding.time_bins)
            out[name] = torch.from_numpy(np.asarray(stats.normalise(raw))[:, i].copy())
    return out


def build_models(kind: str, model_cfg: Any, train_cfg: TrainConfig, data_shape: tuple,
                 stats: Any = None, key_prior: tuple | None = None,
                 mel_stats: dict | None = None) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for "pianogan" (data (NoteEncoding.channels, seq_len)), "spectogan" (data (1, H, W))
    or "wavegan" (data (1, 16384)).

    A PianoGAN with a one-hot head needs `stats` (the NoteStats of its windows) for its value
    tables; `key_prior` (see `metrics.music.key_statistics`) starts a key latent at the data's keys.
    A WaveGAN with `mel_critic` takes `mel_stats` (`models.wave_mel_critic.mel_statistics` of its
    training clips) for its log-mel critic's view.
    """
    cfg = model_config(kind, model_cfg)
    if kind == "pianogan":
        from ganaudio.models.pianogan import NoteEncoding, PianoCritic

        if any(NoteEncoding.of(cfg).categorical) and stats is None:
            raise ValueError("a categorical pianogan head (pitch_head or time_head) needs stats: "
                             "pass build_models(..., stats=dataset.stats)")
        return build_generator(kind, cfg, data_shape, stats, key_prior), PianoCritic(cfg, spectral_norm=train_cfg.spectral_norm)
    generator = build_generator(kind, cfg, data_shape)
    if kind == "wavegan":
        from ganaudio.models.wavegan import WaveGANCritic

        if cfg.mel_critic:
            from ganaudio.models.wave_mel_critic import WaveMelCritic

            return generator, WaveMelCritic(cfg, tuple(data_shape), train_cfg.spectral_norm, mel_stats)
        return generator, WaveGANCritic(cfg, tuple(data_shape), spectral_norm=train_cfg.spectral_norm)
    from ganaudio.models.specgan import SpecGANCritic

    return generator, SpecGANCritic(cfg, tuple(data_shape), spectral_norm=train_cfg.spectral_norm)


def load_generator(checkpoint_path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the generator stored in a training checkpoint or generator.pt, in eval mode.

    A training checkpoint of a run that keeps an EMA gives the EMA weights (what is sampled and
    evaluated); generator.pt already holds them. meta: kind, step, model_config (dict),
    data_shape (tuple), train_config (dict), ema (bool).
    """
    blob = read_checkpoint(checkpoint_path)
    generator = build_generator(blob["kind"], blob["model_config"], tuple(blob["data_shape"]))
    ema = "generator_ema" in blob
    generator.load_state_dict(blob["generator_ema"] if ema else blob["generator"])
    generator.to(device).eval()
    meta = {"kind": blob["kind"], "step": blob.get("step", 0), "model_config": dict(blob["model_config"]),
            "data_shape": tuple(blob["data_shape"]), "train_config": dict(blob.get("train_config", {})),
            "ema": ema or bool(blob.get("ema", False))}
    return generator, meta


def read_checkpoint(checkpoint_path: str | Path) -> dict:
    """A training checkpoint or generator.pt as a dict; a missing or foreign file is an expected error."""
    from ganaudio.training.state import load_checkpoint

    try:
        blob = load_checkpoint(checkpoint_path)
    except FileNotFoundError as e:
        raise MissingInputError(str(e)) from None
    except ValueError as e:  # unreadable: truncated, or not a torch file
        raise BadInputError(str(e)) from None
    missing = [k for k in ("kind", "generator", "model_config", "data_shape") if k not in blob]
    if missing:
        raise BadInputError(f"{checkpoint_path}: missing {', '.join(missing)}; not a ganaudio checkpoint, retrain")
    return blob


def config_dict(model_cfg: Any) -> dict:
    """A model dataclass as the plain dict checkpoints store (what train_gan's model_config wants)."""
    return dataclasses.asdict(model_cfg)
