"""SpectoGAN training steps per second: what each recipe option costs, as a ratio to the base recipe.

One step is what the training loop does (its own `train_step`): a critic update on a real and a
generated batch, a generator update, and the generator EMA update, on the cpu preset's 64x64 shape. Every variant is timed in the
same run, interleaved in rounds, so a busy machine slows them all alike and the ratios stay
comparable; absolute steps/s depend on the load, printed beside them.

    python benchmarks/bench_spectogan_steps.py [--threads 1] [--steps 10] [--rounds 3] [VARIANT ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import bench_gan_steps  # benchmarks/ is on sys.path when this file runs as a script
from ganaudio.config import SpectoGANModelConfig, TrainConfig

BASE_TRAIN = {"loss": "hinge", "spectral_norm": True, "critic_steps": 1, "batch_size": 64, "ema_decay": 0.999}
VARIANTS = {  # name: (model overrides, train overrides)
    "base": ({}, {}),
    "augment": ({}, {"augment": ["time", "cutout"]}),
    "r1": ({}, {"r1_weight": 1.0}),
    "nearest": ({"upsample": "nearest"}, {}),
    "mbstd": ({"minibatch_std": True}, {}),
    "conditional": ({"conditional": True}, {}),
    "batch32": ({}, {"batch_size": 32}),
    "batch128": ({}, {"batch_size": 128}),
    "d24": ({"d": 24}, {}),
    "d32": ({"d": 32}, {}),
    # Screen 3 (docs/SPECTOGAN_EXPERIMENTS.md) gave each recipe the same minutes from these ratios.
    "kernel4": ({"kernel_size": 4}, {}),
    "kernel4_batch32": ({"kernel_size": 4}, {"batch_size": 32}),
    "previous_cpu_preset": ({"conditional": True}, {}),
    "cpu_preset": ({"conditional": True, "kernel_size": 4, "minibatch_std": True}, {"batch_size": 32}),
}


def stepper(model: dict, train: dict):
    """A closure running one training step of the variant (the loop's `train_step`, models built once, seeded)."""
    mcfg = SpectoGANModelConfig(**{"d": 16, **model})
    tcfg = TrainConfig(**{**BASE_TRAIN, "lr_g": 1e-4, "lr_d": 4e-4, "betas": [0.0, 0.9], **train})
    return bench_gan_steps.stepper("spectogan", model=mcfg, train=tcfg), tcfg.batch_size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="*", default=list(VARIANTS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10, help="timed steps per variant per round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = ["base"] + [v for v in args.variants if v != "base"]
    steppers = {n: stepper(*VARIANTS[n]) for n in names}
    for step, _ in steppers.values():  # warm up (allocations, first-call dispatch)
        step()
    times: dict[str, list[float]] = {n: [] for n in names}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for n in names:
            step, _ = steppers[n]
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[n].append(args.steps / (time.perf_counter() - t0))
    load_after = os.getloadavg()[0]
    base = statistics.median(times["base"])
    print(f"threads {args.threads}; load average {load_before:.2f} -> {load_after:.2f}")
    print(f"{'variant':20s} {'steps/s':>8s} {'ratio':>6s} {'clips/s':>8s}")
    for n in names:
        rate = statistics.median(times[n])
        print(f"{n:20s} {rate:8.2f} {rate / base:6.2f} {rate * steppers[n][1]:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
