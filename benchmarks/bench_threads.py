"""Training steps/s under the thread policy, on an idle machine and beside a CPU-bound process.

Shared CI and dev machines run other jobs beside ours. torch's default (one OpenMP thread per
core, threads spinning while they wait) collapses there: a waiting thread burns the core the
other job needs, and the job's time slices stall every parallel region. This runs the real
training loop (PianoGAN's `cpu` preset networks on random windows) in a fresh process per
setting, since OpenMP reads its wait policy once, when torch loads:

- `torch default`: all cores, OMP_WAIT_POLICY unset (the baseline every ratio is against);
- `ganaudio default`: all cores (runtime.threads: 0), OMP_WAIT_POLICY=PASSIVE (ganaudio/__init__.py);
- `one thread`: runtime.threads: 1.

Each is timed alone and beside `--hogs` busy-looping processes (default: one).

    python benchmarks/bench_threads.py [--steps 40] [--hogs 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time

SETTINGS = {
    "torch default": ({}, 0),
    "ganaudio default": ({"OMP_WAIT_POLICY": "PASSIVE"}, 0),
    "one thread": ({"OMP_WAIT_POLICY": "PASSIVE"}, 1),
}

CHILD = r"""
import json, os, sys, tempfile, time
if os.environ.get("BENCH_POLICY_UNSET"):
    os.environ.pop("OMP_WAIT_POLICY", None)
import torch  # before ganaudio: the policy above is what OpenMP sees
from ganaudio.config import PianoGANModelConfig, RuntimeConfig, TrainConfig, to_dict
from ganaudio.models.registry import build_models
from ganaudio.config import presets
from ganaudio.training.loop import train_gan
from ganaudio.utils.device import apply_runtime

threads, steps = int(sys.argv[1]), int(sys.argv[2])
runtime = RuntimeConfig(device="cpu", threads=threads, progress=False, workers=0)
apply_runtime(runtime)
preset = presets("pianogan")["cpu"]
model = PianoGANModelConfig(**{**preset["model"], "pitch_head": "continuous", "time_head": "continuous",
                               "key_latent": False})
train = TrainConfig(**{**preset["train"], "steps": steps, "checkpoint_every": 10**6, "log_every": 10**6})
torch.manual_seed(0)
g, c = build_models("pianogan", model, train, (4, model.seq_len))
data = torch.utils.data.TensorDataset(torch.randn(256, 4, model.seq_len))
with tempfile.TemporaryDirectory() as tmp:
    out = train_gan("pianogan", g, c, data, train, tmp, runtime=runtime, model_config=to_dict(model),
                    data_shape=(4, model.seq_len))
print(json.dumps({"steps_per_s": out["steps_per_s"], "threads": torch.get_num_threads()}))
"""


def hog() -> None:
    while True:
        pass


def measure(env_extra: dict, threads: int, steps: int) -> dict:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.update(env_extra)
    if "OMP_WAIT_POLICY" not in env_extra:
        env["BENCH_POLICY_UNSET"] = "1"  # ganaudio/__init__ would set PASSIVE otherwise
    out = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(steps)], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--hogs", type=int, default=1)
    args = ap.parse_args(argv)
    print(f"cores available: {len(os.sched_getaffinity(0))}; load before: {os.getloadavg()[0]:.2f}")
    results: dict[tuple[str, str], float] = {}
    for condition in ("idle", f"beside {args.hogs} busy process(es)"):
        hogs = []
        if condition != "idle":
            hogs = [mp.Process(target=hog, daemon=True) for _ in range(args.hogs)]
            for h in hogs:
                h.start()
            time.sleep(0.5)
        try:
            for name, (env_extra, threads) in SETTINGS.items():
                r = measure(env_extra, threads, args.steps)
                results[(condition, name)] = r["steps_per_s"]
                print(f"{condition:28s} {name:17s} threads={r['threads']}  {r['steps_per_s']:6.2f} steps/s")
        finally:
            for h in hogs:
                h.terminate()
    print("\nratio against torch's default in the same condition:")
    for condition in {c for c, _ in results}:
        base = results[(condition, "torch default")]
        for name in SETTINGS:
            print(f"  {condition:28s} {name:17s} {results[(condition, name)] / base:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
