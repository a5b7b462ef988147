"""torchrun/DDP support: a no-op in a single process.

Launch with `torchrun --nproc_per_node=N …`: torchrun sets RANK/WORLD_SIZE/LOCAL_RANK and the
rendezvous address; `setup` then joins the process group (gloo on CPU, nccl on CUDA). Each rank
draws its own shard of the seeded batch stream; DDP averages gradients, so parameters stay
identical on every rank. Only rank 0 writes files and logs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ganaudio.utils.device import resolve_device


@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # we initialised the group, so we destroy it

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_name: str = "auto") -> Dist:
    """Read torchrun's environment; join the process group when WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(device=resolve_device(device_name))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, world, local_rank, device, owns)


def wrap(module: nn.Module, d: Dist) -> nn.Module:
    """DDP-wrap when distributed (this also copies rank 0's weights to every rank)."""
    if not d.enabled:
        return module
    ids = [d.device.index] if d.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)


def all_true(flag: bool, d: Dist) -> bool:
    """True when `flag` holds on every rank: all ranks must stop together, or the rest hang."""
    if not d.enabled:
        return flag
    t = torch.tensor([0 if flag else 1], device=d.device)
    dist.all_reduce(t)
    return int(t.item()) == 0


def gather(obj, d: Dist) -> list:
    """One picklable object from each rank, in rank order (every rank gets the list)."""
    if not d.enabled:
        return [obj]
    out = [None] * d.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def teardown(d: Dist) -> None:
    if d.enabled and d.owns_group and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
