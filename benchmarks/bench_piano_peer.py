"""Training steps/s of PianoGAN's autoregressive peer as a ratio of the PianoGAN cpu recipe's, measured together.

The peer row of the evaluation must train for the same CPU minutes as the GAN. Rounds alternate
between a full PianoGAN step (its critic updates, then a generator update, as in
`training.loop`) and a peer step (teacher-forced LSTM on a batch of 256-note windows), so load
changes hit both alike; the median per-round ratio is printed with the peer step count that
takes as long as the GAN preset's steps, and the preset's minutes (peer, then GAN) at these rates.

    python benchmarks/bench_piano_peer.py [--rounds 5] [--steps 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_gan_steps import stepper  # noqa: E402
from ganaudio.config import params_from_dict  # noqa: E402
from ganaudio.tasks.piano_peer import build  # noqa: E402


def peer_stepper(cfg, length: int):
    torch.manual_seed(0)
    model = build(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    tokens = torch.stack([torch.randint(0, size, (cfg.batch_size, length)) for size in model.sizes], -1)
    velocity = torch.randn(cfg.batch_size, length)

    def step() -> None:
        loss, _ = model.loss(tokens, velocity)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3, help="steps of each per round")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = params_from_dict({}).pianogan  # the cpu preset, as params.yaml names it by default
    steps = {"pianogan": stepper("pianogan", cfg), "peer": peer_stepper(cfg.peer, cfg.model.seq_len)}
    for step in steps.values():
        step()  # warm-up: allocator, oneDNN kernel choice
    rates: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            rates[name].append(args.steps / (time.perf_counter() - t0))
    ratio = statistics.median(p / g for p, g in zip(rates["peer"], rates["pianogan"]))
    for name, r in rates.items():
        print(f"{name}: {statistics.median(r):.2f} steps/s (median of {args.rounds} rounds)")
    print(f"peer / pianogan steps/s: {ratio:.3f} -> PianoGAN's {cfg.train.steps} steps take as long as "
          f"{round(cfg.train.steps * ratio)} peer steps ({args.threads} thread(s); pianogan.peer.steps is "
          f"{cfg.peer.steps})")
    gan_min = cfg.train.steps / statistics.median(rates["pianogan"]) / 60
    peer_min = cfg.peer.steps / statistics.median(rates["peer"]) / 60
    print(f"at these rates the cpu preset trains in {peer_min:.1f} (peer) + {gan_min:.1f} (GAN) = "
          f"{peer_min + gan_min:.1f} min; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
