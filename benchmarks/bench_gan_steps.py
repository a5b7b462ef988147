"""Training steps/s of the WaveGAN cpu recipe as a ratio of the SpectoGAN cpu recipe's, measured together.

The README compares the two digit GANs at the same training minutes. SpectoGAN's minutes on 2
idle cores are documented; this measures how many WaveGAN steps fit in the same time on this
machine, whatever its load: rounds alternate between the two recipes (a full step each: the
preset's critic updates, then a generator update, as in `training.loop`), so load changes hit
both alike, and the median per-round ratio is printed with the step count it implies.

    python benchmarks/bench_gan_steps.py [--rounds 5] [--steps 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from ganaudio.config import params_from_dict
from ganaudio.losses.adversarial import build_loss
from ganaudio.models.registry import build_models

SHAPES = {"spectogan": (1, 64, 64), "wavegan": (1, 16384)}


def data_shape(kind: str, cfg) -> tuple[int, ...]:
    if kind == "pianogan":
        from ganaudio.models.pianogan import in_channels

        return (in_channels(cfg.model), cfg.model.seq_len)
    return SHAPES[kind]


def stepper(kind: str, cfg):
    """A function running one training step of `kind`'s recipe on random data in [-1, 1]."""
    torch.manual_seed(0)
    shape = data_shape(kind, cfg)
    extra = {}
    if kind == "pianogan":  # one-hot heads need value tables: from random notes, as good as real for timing
        from ganaudio.data.windows import NoteStats

        rng = np.random.default_rng(0)
        notes = np.stack([rng.integers(30, 90, (64, 8)), rng.exponential(0.2, (64, 8)), rng.exponential(0.4, (64, 8)) + 0.02,
                          rng.integers(20, 110, (64, 8))], -1)
        extra["stats"] = NoteStats.fit(notes)
    g, c = build_models(kind, cfg.model, cfg.train, shape, **extra)
    loss = build_loss(cfg.train)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.train.lr_g, betas=tuple(cfg.train.betas))
    opt_d = torch.optim.Adam(c.parameters(), lr=cfg.train.lr_d, betas=tuple(cfg.train.betas))
    real = torch.rand(cfg.train.batch_size, *shape) * 2 - 1
    # A conditional recipe (SpectoGAN's cpu preset) pays for its labels too.
    labels = torch.randint(0, 10, (len(real),)) if getattr(cfg.model, "conditional", False) else None

    def step() -> None:
        for _ in range(cfg.train.critic_steps):
            with torch.no_grad():
                fake = g(g.sample_latent(len(real)), labels)
            d_loss, _ = loss.critic_loss(c, real, fake, labels)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        c.requires_grad_(False)
        g_loss, _ = loss.generator_loss(c, g(g.sample_latent(len(real)), labels), labels)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        c.requires_grad_(True)

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5, help="steps of each recipe per round")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = params_from_dict({})  # the cpu presets, as params.yaml names them by default
    recipes = {kind: (getattr(params, kind), stepper(kind, getattr(params, kind))) for kind in SHAPES}
    for _, step in recipes.values():
        step()  # warm-up: allocator, oneDNN kernel choice
    rates: dict[str, list[float]] = {kind: [] for kind in recipes}
    for _ in range(args.rounds):
        for kind, (_, step) in recipes.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            rates[kind].append(args.steps / (time.perf_counter() - t0))
    ratio = statistics.median(w / s for w, s in zip(rates["wavegan"], rates["spectogan"]))
    for kind, (cfg, _) in recipes.items():
        print(f"{kind}: {statistics.median(rates[kind]):.2f} steps/s (median of {args.rounds} rounds; "
              f"d={cfg.model.d}, batch {cfg.train.batch_size}, {cfg.train.loss}, {cfg.train.critic_steps} critic step(s))")
    spec_steps = params.spectogan.train.steps
    print(f"wavegan / spectogan steps/s: {ratio:.3f} -> SpectoGAN's {spec_steps} steps take as long as "
          f"{round(spec_steps * ratio)} WaveGAN steps ({args.threads} thread(s))")


if __name__ == "__main__":
    main()
