"""Everything training needs to continue exactly where it stopped, in one file.

One `TrainState` holds both models, both optimisers, the generator's EMA, the step, the sampler
position, every RNG state (one set per DDP rank) and the identity of the run (training/identity.py:
data fingerprint, code version, configs). It is written by temp file + rename, so a crash mid-write
leaves the previous checkpoint intact. `generator.pt` is the small generator-only file for users
(the EMA weights when the run keeps an EMA); `load_generator` (in models/registry.py) reads either.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from ganaudio.models.layers import unwrap
from ganaudio.training.identity import identity_difference
from ganaudio.utils.io import atomic_path


def rng_state() -> dict[str, Any]:
    """This process's RNG states, in types that `torch.load(weights_only=True)` accepts."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class TrainState:
    kind: str
    generator: nn.Module
    critic: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    train_config: dict
    model_config: dict
    data_shape: tuple
    identity: dict = field(default_factory=dict)  # training/identity.py run_identity(...)
    ema: Optional[nn.Module] = None  # the generator's exponential moving average, if kept
    step: int = 0  # generator updates done
    batches: int = 0  # real batches drawn so far by this rank: the sampler position
    rng: list = field(default_factory=list)  # rng_state() of each rank, by rank
    seconds: float | None = 0.0  # training wall time up to `step`, summed over resumed runs; None: unknown
    monitor: dict = field(default_factory=dict)  # best value/step of the valid monitor, evaluations since
    finished: bool = False  # stopped early by the monitor: a resume has nothing left to do

    def sampling_generator(self) -> nn.Module:
        """The weights users sample from: the EMA when kept, else the trained generator."""
        return unwrap(self.ema if self.ema is not None else self.generator)

    def to_dict(self) -> dict:
        out = {
            "kind": self.kind, "step": self.step, "batches": self.batches, "rng": self.rng,
            "seconds": self.seconds, "identity": self.identity, "monitor": self.monitor, "finished": self.finished,
            "generator": unwrap(self.generator).state_dict(), "critic": unwrap(self.critic).state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "train_config": self.train_config, "model_config": self.model_config,
            "data_shape": list(self.data_shape),
        }
        if self.ema is not None:
            out["generator_ema"] = self.ema.state_dict()
        return out

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp:
            torch.save(self.to_dict(), tmp)

    def load_from(self, ckpt: dict) -> None:
        """Restore models, optimisers and counters (not RNG: the loop does that last)."""
        unwrap(self.generator).load_state_dict(ckpt["generator"])
        unwrap(self.critic).load_state_dict(ckpt["critic"])
        self.opt_g.load_state_dict(ckpt["opt_g"])
        self.opt_d.load_state_dict(ckpt["opt_d"])
        if self.ema is not None:
            self.ema.load_state_dict(ckpt["generator_ema"])
        self.step, self.batches, self.rng = ckpt["step"], ckpt["batches"], ckpt["rng"]
        self.monitor, self.finished = dict(ckpt.get("monitor") or {}), bool(ckpt.get("finished", False))
        # A checkpoint written before this field existed: its time is unknown, not zero.
        self.seconds = None if ckpt.get("seconds") is None else float(ckpt["seconds"])

    def same_run(self, ckpt: dict) -> Optional[str]:
        """None when `ckpt` is an interrupted run of exactly this identity, else what differs (for the log)."""
        if ckpt.get("kind") != self.kind:
            return f"kind {ckpt.get('kind')!r} != {self.kind!r}"
        return identity_difference(self.identity, ckpt.get("identity"))


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    path = Path(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: checkpoint not found; train first (dvc repro train_<gan>)") from None
    except Exception as e:  # a truncated or foreign file
        raise ValueError(f"{path}: not a readable ganaudio checkpoint ({type(e).__name__}); delete it and retrain") from None


def save_generator(path: str | Path, state: TrainState) -> None:
    """The generator alone plus what `load_generator` needs to rebuild it (a few MB)."""
    blob = {"kind": state.kind, "step": state.step, "generator": state.sampling_generator().state_dict(),
            "ema": state.ema is not None, "model_config": state.model_config, "train_config": state.train_config,
            "data_shape": list(state.data_shape), "identity": state.identity}
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)
