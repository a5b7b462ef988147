"""What a training run is: the data it saw, the code that trained it, and its configs.

A checkpoint records its run's identity; the loop resumes it only for exactly the same identity
(an interrupted run of the same inputs) and otherwise trains from scratch. Data is fingerprinted
by content, not by file bytes: the notes and mels stages write zip containers (.npz, .pt) whose
bytes change with timestamps while the arrays stay equal, and equal arrays are the same data.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

# Keys of TrainConfig that do not change what a step computes: a run may be resumed with more
# steps, another checkpoint or logging cadence, or another monitor schedule, and still continue
# the same trajectory.
SCHEDULE_KEYS = ("steps", "checkpoint_every", "log_every", "monitor_every", "monitor_patience")

# The modules whose source decides what a training step computes, besides the two networks' own.
TRAINING_CODE = ("ganaudio.models.layers", "ganaudio.losses.adversarial", "ganaudio.training.loop",
                 "ganaudio.training.ema", "ganaudio.training.augment")


def _update(h, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().contiguous()
        h.update(f"tensor{tuple(value.shape)}{value.dtype}".encode())
        h.update(value.view(-1).view(torch.uint8).numpy().tobytes() if value.numel() else b"")
    elif isinstance(value, np.ndarray):
        value = np.ascontiguousarray(value)
        h.update(f"array{value.shape}{value.dtype}".encode())
        h.update(value.tobytes())
    elif isinstance(value, (list, tuple)):
        h.update(f"seq{len(value)}".encode())
        for v in value:
            _update(h, v)
    else:
        h.update(json.dumps(value, sort_keys=True, default=str).encode())


def fingerprint(*values: Any) -> str:
    """sha256 of tensors, arrays and JSON-able values, by content (shape and dtype included)."""
    h = hashlib.sha256()
    for v in values:
        _update(h, v)
    return h.hexdigest()


def dataset_fingerprint(dataset: Dataset) -> str:
    """A dataset's `fingerprint()` if it has one, else the content of its tensors or of every item."""
    if hasattr(dataset, "fingerprint"):
        return dataset.fingerprint()
    if isinstance(dataset, TensorDataset):
        return fingerprint(list(dataset.tensors))
    return fingerprint([dataset[i] for i in range(len(dataset))])  # small test datasets only


def code_version(modules: Iterable[str]) -> str:
    """sha256 over the source files of `modules` (those that exist): any edit changes it."""
    h = hashlib.sha256()
    for name in sorted(set(modules)):
        try:
            module = sys.modules.get(name) or importlib.import_module(name)
        except ImportError:
            continue
        path = getattr(module, "__file__", None)
        if path:
            h.update(name.encode())
            h.update(Path(path).read_bytes())
    return h.hexdigest()


def training_code_version(generator: torch.nn.Module, critic: torch.nn.Module) -> str:
    """The code version of a run: the networks' modules plus the loop, losses, layers and EMA."""
    from ganaudio.models.layers import unwrap

    own = {type(unwrap(m)).__module__ for m in (generator, critic)}
    return code_version([*own, *TRAINING_CODE])


def run_identity(train_config: dict, model_config: dict, data_shape: tuple, data: str, code: str,
                 init: dict | None = None, precision: str = "fp32") -> dict:
    """Everything that must match for a checkpoint to be resumed (schedule keys excluded).

    `precision` is the resolved `runtime.precision` ("fp32" or "bf16"): a machine setting that
    no stage lists, but a step in bf16 computes other numbers, so a resume never mixes the two.
    """
    return {"train_config": {k: v for k, v in train_config.items() if k not in SCHEDULE_KEYS},
            "model_config": dict(model_config), "data_shape": list(data_shape), "data": data, "code": code,
            "init": init, "precision": precision}


def identity_difference(ours: dict, theirs: dict | None) -> str | None:
    """None when two identities match, else a short reason naming what differs (for the log)."""
    if not theirs:
        return "the checkpoint records no run identity (written by an older ganaudio)"
    reasons = []
    for key, what in (("data", "training data changed"), ("code", "model/loss/loop code changed"),
                      ("data_shape", "data shape changed"), ("model_config", "model config changed"),
                      ("init", "warm start changed")):
        if ours.get(key) != theirs.get(key):
            reasons.append(what)
    # Checkpoints from before runtime.precision were all trained in fp32 on the CPU.
    if ours.get("precision", "fp32") != theirs.get("precision", "fp32"):
        reasons.append(f"precision {theirs.get('precision', 'fp32')} != {ours.get('precision', 'fp32')}")
    a, b = ours.get("train_config", {}), theirs.get("train_config", {})
    diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    if diff:
        reasons.append(f"train config differs in {', '.join(diff)}")
    return "; ".join(reasons) or None
