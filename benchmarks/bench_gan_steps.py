"""Training steps/s of the WaveGAN cpu recipe as a ratio of the SpectoGAN cpu recipe's, measured together.

The README compares the two digit GANs at the same training minutes. SpectoGAN's minutes on 2
idle cores are documented; this measures how many WaveGAN steps fit in the same time on this
machine, whatever its load: rounds alternate between the two recipes (a full step each: the
loop's own `train_step`, so the preset's critic updates, a generator update and the EMA update),
so load changes hit both alike, and the median per-round ratio is printed with the step count
it implies. `stepper` is also what bench_spectogan_steps.py and bench_mfu.py time.

    python benchmarks/bench_gan_steps.py [--rounds 5] [--steps 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import ganaudio  # noqa: F401  before torch: OMP_WAIT_POLICY=PASSIVE, as in the stages (bench_threads.py)
import torch

from ganaudio.config import params_from_dict
from ganaudio.data.windows import NoteStats
from ganaudio.losses.adversarial import build_loss
from ganaudio.models.registry import build_models, config_dict
from ganaudio.training.loop import StepContext, build_state, train_step

SHAPES = {"spectogan": (1, 64, 64), "wavegan": (1, 16384)}


def data_shape(kind: str, model_cfg) -> tuple:
    if kind == "pianogan":
        from ganaudio.models.pianogan import in_channels

        return (in_channels(model_cfg), model_cfg.seq_len)
    return SHAPES[kind]


def stepper(kind: str, cfg=None, precision: str = "fp32", compile: bool = False, *, model=None, train=None):
    """A function running one training step of `kind`'s recipe (`cfg`: its section of Params, or
    `model` and `train` configs) on a fixed random batch in [-1, 1], under `precision`; with
    `compile`, the networks go through torch.compile as `runtime.compile` does."""
    model, train = (model or cfg.model), (train or cfg.train)
    shape = data_shape(kind, model)
    torch.manual_seed(0)
    g, c = build_models(kind, model, train, shape, stats=NoteStats([60.0, -2.0, -1.5, 64.0], [12.0, 1.0, 1.0, 20.0],
                                                                    pitch_min=21, pitch_max=108))
    state = build_state(kind, g, c, train, config_dict(model), shape)
    nets = (torch.compile(g), torch.compile(c)) if compile else (g, c)
    ctx = StepContext(*nets, build_loss(train), train.ema_decay, torch.device("cpu"), precision)
    real = torch.rand(train.batch_size, *shape) * 2 - 1
    # A conditional recipe (SpectoGAN's cpu preset) pays for its labels too.
    labels = torch.randint(0, 10, (len(real),)) if getattr(model, "conditional", False) else None
    batch = [(real, labels)] * train.critic_steps
    return lambda: train_step(state, batch, ctx)


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
