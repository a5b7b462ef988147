"""Device choice, CPU threads and seeding: the runtime every stage and the CLI apply once.

`apply_runtime(params.runtime)` (stages/common.py, the CLI) sets torch's CPU threads and the
device that training, rendering, evaluation and generation use (`current_device()`), so
`runtime.device: auto` means CUDA everywhere when present, and the precision those use
(`runtime.precision`, `autocast()`). Threads default to the cores this
process may use (os.sched_getaffinity: a container's or taskset's share, not the host's count).
The OpenMP wait policy is set to PASSIVE in ganaudio/__init__.py, before torch loads: spinning
OpenMP threads collapse when the cores are shared (measured in benchmarks/bench_threads.py).
"""

from __future__ import annotations

import contextlib
import os
import random
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ganaudio.config import ConfigError

_device: Optional[torch.device] = None
_precision: Optional[str] = None  # "fp32" | "bf16", resolved by apply_runtime


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when present, else CPU; anything else is passed to torch.device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"runtime.device is {name!r} but CUDA is not available; set runtime.device: auto")
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


def cpu_flags() -> set[str]:
    """The CPU feature flags of /proc/cpuinfo (empty where there is none: not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bf16 matmuls natively: CUDA with bf16 support, or a CPU with
    AVX512-BF16 or AMX. Elsewhere bf16 is emulated (converted to and from fp32) and gains nothing.
    torch's own capability string stops at "AVX512", so the bf16 extensions come from the flags."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return (torch.backends.cpu.get_cpu_capability().startswith("AVX512")
                and bool(cpu_flags() & {"avx512_bf16", "amx_bf16"}))
    return False


def resolve_precision(name: str, device: torch.device) -> str:
    """`runtime.precision` as used on `device`: "fp32" or "bf16" (`auto`: bf16 only where native)."""
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if name == "bf16" and device.type not in ("cpu", "cuda"):
        raise ConfigError(f"runtime.precision is bf16 but device {device} has no bf16 autocast here; "
                          "use fp32 or auto")
    return name


def autocast(device: torch.device, precision: str | None = None):
    """bf16 autocast on `device` when the precision (default: the one `apply_runtime` chose) is
    bf16, else nothing. Weights stay fp32 (the master copy); matmuls and convolutions run in bf16."""
    precision = precision or current_precision(device)
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def apply_runtime(runtime) -> torch.device:
    """Set torch's CPU threads (`runtime.threads`, 0: available_cores()), remember the device and precision."""
    global _device, _precision
    threads = runtime.threads or available_cores()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _device = resolve_device(runtime.device)
    _precision = resolve_precision(runtime.precision, _device)
    return _device


def current_device() -> torch.device:
    """The device `apply_runtime` chose; `auto` (CUDA when present) if it was never called."""
    return _device if _device is not None else resolve_device("auto")


def current_precision(device: torch.device | None = None) -> str:
    """The precision `apply_runtime` chose ("fp32" if it was never called, or for another device type)."""
    if _precision is None or (device is not None and _device is not None and device.type != _device.type):
        return "fp32"
    return _precision
