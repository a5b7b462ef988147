"""Device choice, CPU threads and seeding: the runtime every stage and the CLI apply once.

`apply_runtime(params.runtime)` (stages/common.py, the CLI) sets torch's CPU threads and the
device that training, rendering, evaluation and generation use (`current_device()`), so
`runtime.device: auto` means CUDA everywhere when present. Threads default to the cores this
process may use (os.sched_getaffinity: a container's or taskset's share, not the host's count).
The OpenMP wait policy is set to PASSIVE in ganaudio/__init__.py, before torch loads: spinning
OpenMP threads collapse when the cores are shared (measured in benchmarks/bench_threads.py).
"""

from __future__ import annotations

import os
import random
from typing import Optional

import numpy as np
import torch

_device: Optional[torch.device] = None


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when present, else CPU; anything else is passed to torch.device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"runtime.device is {name!r} but CUDA is not available; set runtime.device: auto")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def available_cores() -> int:
    """The cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def apply_runtime(runtime) -> torch.device:
    """Set torch's CPU threads (`runtime.threads`, 0: available_cores()) and remember the device."""
    global _device
    threads = runtime.threads or available_cores()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _device = resolve_device(runtime.device)
    return _device


def current_device() -> torch.device:
    """The device `apply_runtime` chose; `auto` (CUDA when present) if it was never called."""
    return _device if _device is not None else resolve_device("auto")
