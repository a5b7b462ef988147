"""Model FLOPs utilisation of each GAN's cpu-preset training step, in fp32 and under bf16 autocast.

For PianoGAN, SpectoGAN and WaveGAN (their `cpu` presets, as `make run` trains them), one step is
the loop's own `train_step` (bench_gan_steps.stepper: the critic updates, the generator update,
the EMA). This prints, in one table:

- GFLOP per step, counted by `torch.utils.flop_counter.FlopCounterMode` (matmuls and convolutions,
  forward, backward and the gradient penalty's double backward);
- steps/s and the achieved GFLOP/s in fp32, and their share of the fp32 matmul peak;
- the same under bf16 autocast where this machine has native bf16 (`native_bf16`), against the
  bf16 matmul peak, and the speed-up over fp32;
- with `--compile`, torch.compile's first-step time and steady-state speed-up (fp32).

The peaks are 2048x2048 matmuls on the same threads, measured in the same run (before and after
the steps; the better counts). Steps are timed in
rounds that alternate the precisions, so a load change hits both alike; the median round counts.
Absolute rates depend on the machine's load, printed with the table.

    python benchmarks/bench_mfu.py [--quick] [--rounds 3] [--steps 3] [--threads N] [--compile] [GAN ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import ganaudio  # noqa: F401  before torch: OMP_WAIT_POLICY=PASSIVE, as in the stages (bench_threads.py)
import torch
from torch.utils.flop_counter import FlopCounterMode

import bench_gan_steps  # benchmarks/ is on sys.path when this file runs as a script
from ganaudio.config import params_from_dict
from ganaudio.utils.device import native_bf16

GANS = ("pianogan", "spectogan", "wavegan")


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    """Best FLOP/s of an n x n matmul in `dtype` over `reps` timed calls (after one warm-up)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best


class _NoModuleTracking:
    """FlopCounterMode's per-module tracker breaks `autograd.grad` (the gradient penalty) with "A
    leaf node was passed to _will_engine_execute_node" (pytorch/pytorch#131753, open): count the
    total only, everything under "Global"."""

    parents = {"Global"}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def step_flops(step) -> int:
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _NoModuleTracking()
    with counter:
        step()
    return counter.get_total_flops()


def rate(step, steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - t0)


def compiled(kind: str, cfg, rounds: int, steps: int) -> dict:
    """Compilation seconds (the first two compiled steps, which may recompile, less two steady
    steps) and the steady-state speed-up over fp32 eager, in alternating rounds."""
    eager, fast = bench_gan_steps.stepper(kind, cfg), bench_gan_steps.stepper(kind, cfg, compile=True)
    eager()
    t0 = time.perf_counter()
    fast()
    fast()
    first = time.perf_counter() - t0
    rates = [(rate(eager, steps), rate(fast, steps)) for _ in range(rounds)]
    steady = statistics.median(f for _, f in rates)
    return {"compile_s": first - 2 / steady, "speedup": statistics.median(f / e for e, f in rates)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gans", nargs="*", default=list(GANS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per precision per round")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--quick", action="store_true", help="1 round of 2 steps, 1 warm-up step (a smoke run)")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (fp32; minutes on 2 cores)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.steps, args.warmup = 1, 2, 1
    if args.compile:  # a cold compile: inductor's on-disk cache would make a second run look free
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench_mfu_inductor_")
    torch.set_num_threads(args.threads)
    cpu = torch.device("cpu")
    precisions = ["fp32"] + (["bf16"] if native_bf16(cpu) else [])
    params = params_from_dict({})  # the cpu presets, as params.yaml names them by default
    load_before = os.getloadavg()[0]
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    peaks = {p: matmul_peak(dtypes[p]) for p in precisions}

    rows = []
    for kind in args.gans:
        cfg = getattr(params, kind)
        steps = {p: bench_gan_steps.stepper(kind, cfg, p) for p in precisions}
        flops = step_flops(steps["fp32"])
        for step in steps.values():
            for _ in range(args.warmup):
                step()  # allocator, oneDNN kernel choice
        rates = {p: [] for p in precisions}
        for _ in range(args.rounds):
            for p, step in steps.items():
                rates[p].append(rate(step, args.steps))
        row = {"gan": kind, "d": cfg.model.d, "batch": cfg.train.batch_size, "gflop": flops / 1e9}
        for p in precisions:
            r = statistics.median(rates[p])
            row[p] = {"steps_s": r, "gflops": r * flops / 1e9}
        if "bf16" in precisions:
            row["bf16_speedup"] = statistics.median(b / f for f, b in zip(rates["fp32"], rates["bf16"]))
        if args.compile:
            row["compile"] = compiled(kind, cfg, args.rounds, args.steps)
        rows.append(row)
    # The peak is the best the cores gave: measured again at the end, in case load fell meanwhile.
    peaks = {p: max(v, matmul_peak(dtypes[p])) for p, v in peaks.items()}
    for row in rows:
        for p in precisions:
            row[p]["mfu"] = row[p]["gflops"] * 1e9 / peaks[p]
    load_after = os.getloadavg()[0]

    print(f"threads {args.threads}; load average {load_before:.2f} -> {load_after:.2f}; "
          f"{args.rounds} round(s) of {args.steps} step(s) per precision")
    print("matmul 2048^2 peak: " + ", ".join(f"{p} {v / 1e9:.0f} GFLOP/s" for p, v in peaks.items()))
    head = "| step (cpu preset) | GFLOP/step | fp32 steps/s | fp32 GFLOP/s | share of fp32 peak |"
    rule = "|---|---|---|---|---|"
    if "bf16" in precisions:
        head += " bf16 steps/s | bf16 GFLOP/s | share of bf16 peak | bf16 speed-up |"
        rule += "---|---|---|---|"
    if args.compile:
        head += " compile s | compiled speed-up |"
        rule += "---|---|"
    print(head)
    print(rule)
    for r in rows:
        f = r["fp32"]
        line = (f"| {r['gan']}, d={r['d']}, batch {r['batch']} | {r['gflop']:.1f} | {f['steps_s']:.2f} | "
                f"{f['gflops']:.0f} | {f['mfu']:.2f} |")
        if "bf16" in r:
            b = r["bf16"]
            line += f" {b['steps_s']:.2f} | {b['gflops']:.0f} | {b['mfu']:.2f} | {r['bf16_speedup']:.2f}x |"
        if "compile" in r:
            line += f" {r['compile']['compile_s']:.0f} | {r['compile']['speedup']:.2f}x |"
        print(line)
    if "bf16" not in precisions:
        print("bf16: not measured, this CPU has no native bf16 (avx512_bf16 or AMX)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
