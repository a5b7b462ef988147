"""The one GAN training loop, shared by PianoGAN and SpectoGAN.

Each step: `critic_steps` critic updates, each on a fresh real batch, then one generator
update. Real batches come from `SeededBatches`, an infinite stream whose i-th batch is a pure
function of (seed, rank, i); with the RNG states and that position in the checkpoint, a resumed
run computes exactly the losses an uninterrupted one would (tested on CPU).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from pathlib import Path
from typing import Iterator, Optional

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from ganaudio.config import RuntimeConfig, TrainConfig, to_dict
from ganaudio.losses.adversarial import build_loss
from ganaudio.training import distributed
from ganaudio.training.state import TrainState, load_checkpoint, rng_state, save_generator, set_rng_state
from ganaudio.utils.device import seed_everything
from ganaudio.utils.io import atomic_path
from ganaudio.utils.tracking import Tracker

log = logging.getLogger(__name__)


class TrainingDiverged(RuntimeError):
    """A loss became NaN or inf; the message names the step, the loss and the checkpoint kept."""


class SeededBatches(Sampler):
    """Infinite index batches: batch i of rank r is a pure function of (seed, r, i).

    The stream is the concatenation of seeded permutations (one per epoch); rank r of W takes
    the (i·W + r)-th run of `batch_size` positions, so ranks never share an item in a pass.
    """

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1, start: int = 0):
        if n == 0:
            raise ValueError("the training dataset is empty; check the data stage's output")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.rank, self.world_size, self.start = rank, world_size, start
        self._epoch, self._perm = -1, None

    def _perm_of(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        return self._perm

    def batch(self, i: int) -> list[int]:
        first = (i * self.world_size + self.rank) * self.batch_size
        return [int(self._perm_of(p // self.n)[p % self.n]) for p in range(first, first + self.batch_size)]

    def __iter__(self) -> Iterator[list[int]]:
        i = self.start
        while True:
            yield self.batch(i)
            i += 1


def train_gan(kind: str, generator: nn.Module, critic: nn.Module, dataset: Dataset, cfg: TrainConfig,
              run_dir: str | Path, *, runtime: RuntimeConfig = RuntimeConfig(), tracker: Optional[Tracker] = None,
              model_config: dict, data_shape: tuple, conditional: bool = False) -> dict:
    """Train (or resume) a GAN into `run_dir`; returns a summary (steps, seconds, steps_per_s, final, rank).

    Writes checkpoints/initial.pt (step 0), checkpoints/latest.pt, generator.pt, metrics.csv
    and loss_curve.png. Under torchrun, only rank 0 writes.
    """
    d = distributed.setup(runtime.device)
    ok = False
    try:
        out = _train(kind, generator, critic, dataset, cfg, Path(run_dir), runtime, tracker or Tracker(),
                     model_config, tuple(data_shape), conditional, d)
        ok = True
        return out
    finally:
        if ok:
            distributed.teardown(d)
        elif d.owns_group:  # no barrier: the other ranks may be gone
            torch.distributed.destroy_process_group()


def _train(kind, generator, critic, dataset, cfg, run_dir, runtime, tracker, model_config, data_shape,
           conditional, d: distributed.Dist) -> dict:
    if cfg.critic_steps < 1 or cfg.batch_size < 1 or cfg.log_every < 1 or cfg.checkpoint_every < 1:
        raise ValueError("train.critic_steps, batch_size, log_every and checkpoint_every must all be >= 1")
    device = d.device
    seed_everything(cfg.seed + d.rank)
    generator.to(device).train()
    critic.to(device).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr_g, betas=tuple(cfg.betas))
    opt_d = torch.optim.Adam(critic.parameters(), lr=cfg.lr_d, betas=tuple(cfg.betas))
    state = TrainState(kind, generator, critic, opt_g, opt_d, to_dict(cfg), dict(model_config), data_shape)
    loss_fn = build_loss(cfg)

    ckpt_dir = run_dir / "checkpoints"
    latest, initial, csv_path = ckpt_dir / "latest.pt", ckpt_dir / "initial.pt", run_dir / "metrics.csv"
    resumed = _maybe_resume(state, latest, device)
    rows = _read_rows(csv_path, state.step) if resumed is not None else []

    g, c = distributed.wrap(generator, d), distributed.wrap(critic, d)
    if runtime.compile:
        g, c = torch.compile(g), torch.compile(c)

    # Workers only on CUDA: on CPU they would fight the training math for the same cores.
    sampler = SeededBatches(len(dataset), cfg.batch_size, cfg.seed, d.rank, d.world_size, start=state.batches)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=runtime.workers if device.type == "cuda" else 0,
                        pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(cfg.seed))
    batches = iter(loader)

    if resumed is not None:
        if len(state.rng) == d.world_size:
            set_rng_state(state.rng[d.rank])
        else:  # resumed with another world size: continue, but not bit-exactly
            log.warning("%s: saved with %d rank(s), resuming with %d; RNG streams reseeded",
                        latest, len(state.rng), d.world_size)
            seed_everything(cfg.seed + d.rank + 7919 * state.step)
    last_good = (latest, state.step) if resumed is not None else _checkpoint(state, initial, d)

    use_amp = runtime.autocast and device.type == "cuda"
    amp = lambda: torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else contextlib.nullcontext()  # noqa: E731

    def next_real():
        batch = next(batches)
        state.batches += 1
        if not isinstance(batch, (list, tuple)):
            batch = (batch,)
        x, y = batch[0], (batch[1] if len(batch) > 1 else None)
        if tuple(x.shape[1:]) != data_shape:
            raise ValueError(f"dataset items have shape {tuple(x.shape[1:])} but data_shape is {data_shape}; "
                             "rebuild the models from the dataset's data_shape")
        if conditional and y is None:
            raise ValueError("conditional training needs a dataset yielding (x, label); "
                             "build MelClips with with_labels=True")
        return x.to(device, non_blocking=True), (y.to(device, non_blocking=True) if conditional else None)

    t0 = t_log = time.perf_counter()
    seconds_before = state.seconds
    start_step, sums, n_acc, last_row = state.step, {}, 0, (rows[-1] if rows else {})
    bar = tqdm(total=cfg.steps, initial=state.step, desc=f"train {kind}", unit="step",
               disable=not (runtime.progress and d.is_main))
    while state.step < cfg.steps:
        bad_d = torch.zeros((), dtype=torch.bool, device=device)
        for _ in range(cfg.critic_steps):
            real, cond = next_real()
            with torch.no_grad(), amp():
                fake = g(generator.sample_latent(real.shape[0], device=device), cond)
            with amp():
                d_loss, m_d = loss_fn.critic_loss(c, real, fake, cond)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            gn_d = nn.utils.clip_grad_norm_(critic.parameters(), math.inf)  # the norm, no clipping
            opt_d.step()
            bad_d |= ~torch.isfinite(d_loss.detach())

        # The generator step scores fakes with the plain critic, frozen: no DDP all-reduce of
        # critic gradients nobody uses.
        critic.requires_grad_(False)
        with amp():
            fake = g(generator.sample_latent(cfg.batch_size, device=device), cond)
            g_loss, m_g = loss_fn.generator_loss(critic, fake, cond)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        gn_g = nn.utils.clip_grad_norm_(generator.parameters(), math.inf)
        opt_g.step()
        critic.requires_grad_(True)
        state.step += 1
        bar.update(1)

        bad_g = ~torch.isfinite(g_loss.detach())
        if not distributed.all_true(not bool(bad_d | bad_g), d):
            which = "adv/critic_loss" if bool(bad_d) else "adv/gen_loss"
            if d.is_main:
                _write_rows(csv_path, rows)
            bar.close()
            raise TrainingDiverged(
                f"step {state.step}: {which} is NaN/inf; lower train.lr_d and train.lr_g or check the data "
                f"for NaN/inf; last good checkpoint kept: {last_good[0]} (step {last_good[1]})")

        for k, v in {**m_d, **m_g, "other/grad_norm_d": gn_d, "other/grad_norm_g": gn_g}.items():
            sums[k] = sums.get(k, 0.0) + v.detach().float()
        n_acc += 1

        if state.step % cfg.log_every == 0 or state.step == cfg.steps:
            now = time.perf_counter()
            row = {k: float(v) / n_acc for k, v in sums.items()}
            row.update({"other/steps_per_s": n_acc / max(now - t_log, 1e-9),
                        "other/lr_g": opt_g.param_groups[0]["lr"], "other/lr_d": opt_d.param_groups[0]["lr"]})
            sums, n_acc, t_log, last_row = {}, 0, now, row
            if d.is_main:
                tracker.log_metrics(row, step=state.step)
                rows.append({"step": state.step, **row})
                _write_rows(csv_path, rows)
                bar.set_postfix(d=f"{row['adv/critic_loss']:.3f}", g=f"{row['adv/gen_loss']:.3f}")

        if state.step % cfg.checkpoint_every == 0 or state.step == cfg.steps:
            if seconds_before is not None:
                state.seconds = seconds_before + time.perf_counter() - t0
            last_good = _checkpoint(state, latest, d)
    bar.close()

    seconds = time.perf_counter() - t0
    if d.is_main:
        if not latest.exists():  # steps: 0; otherwise the loop saved the last step
            state.save(latest)
        save_generator(run_dir / "generator.pt", state)
        _write_rows(csv_path, rows)
        if rows:
            from ganaudio.plots.curves import plot_loss_curves

            plot_loss_curves(csv_path, run_dir / "loss_curve.png")
            tracker.log_artifact(run_dir / "loss_curve.png")
    distributed.barrier(d)
    done = state.step - start_step
    return {"steps": state.step, "steps_run": done, "rank": d.rank, "resumed_from": resumed, "seconds": seconds,
            "train_seconds": state.seconds,  # over all runs that built this checkpoint; None if unknown
            "steps_per_s": done / seconds if seconds > 0 else 0.0,
            "final": {k: v for k, v in last_row.items() if k != "step"},
            "checkpoint": str(latest), "generator": str(run_dir / "generator.pt")}


def _maybe_resume(state: TrainState, latest: Path, device) -> Optional[int]:
    """Load `latest` into `state` when it is from the same run; return the step resumed from."""
    if not latest.exists():
        return None
    ckpt = load_checkpoint(latest, map_location=device)
    why = state.same_run(ckpt)
    if why is not None:
        log.warning("%s: not resuming (%s); training from scratch and overwriting it", latest, why)
        return None
    state.load_from(ckpt)
    log.info("resuming %s from step %d (%s)", state.kind, state.step, latest)
    return state.step


def _checkpoint(state: TrainState, path: Path, d: distributed.Dist) -> tuple[Path, int]:
    """Save on rank 0 with every rank's RNG state (all ranks must call this together)."""
    state.rng = distributed.gather(rng_state(), d)
    if d.is_main:
        state.save(path)
    return path, state.step


def _read_rows(csv_path: Path, up_to: int) -> list[dict]:
    """Rows of an earlier run up to the resumed step: later ones are about to be recomputed."""
    if not csv_path.exists():
        return []
    df = pd.read_csv(csv_path)
    return df[df["step"] <= up_to].to_dict("records")


def _write_rows(csv_path: Path, rows: list[dict]) -> None:
    with atomic_path(csv_path) as tmp:
        pd.DataFrame(rows, columns=["step"] if not rows else None).to_csv(tmp, index=False)
