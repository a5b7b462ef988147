"""The one GAN training loop, shared by every GAN of the project.

Each step (`train_step`): `critic_steps` critic updates, each on a fresh real batch, then one
generator update (and, with `ema_decay`, an update of the generator's moving average), under
bf16 autocast when `runtime.precision` resolves to bf16; it returns the step's metrics and the
outer loop (`_train`) logs, monitors, checkpoints and stops. Real batches come
from `SeededBatches`, an infinite stream whose i-th batch is a pure function of (seed, rank, i);
with the RNG states and that position in the checkpoint, a resumed run computes exactly the
losses an uninterrupted one would (tested on CPU).

A checkpoint is resumed only when it is an interrupted run of exactly the same inputs (its
identity: data fingerprint, code version, configs; training/identity.py). Anything else trains
from scratch; the superseded files are moved to `<run_dir>/previous/` and deleted only once the
new run has finished. Checkpoints are written only when every weight is finite.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from ganaudio.config import RuntimeConfig, TrainConfig, to_dict
from ganaudio.errors import GanaudioError
from ganaudio.losses.adversarial import build_loss
from ganaudio.training import distributed
from ganaudio.training.ema import ema_decay, make_ema, update_ema
from ganaudio.training.identity import dataset_fingerprint, run_identity, training_code_version
from ganaudio.training.run_guard import ParentWatch, RunLock, clean_stale_temp_files
from ganaudio.training.state import TrainState, load_checkpoint, rng_state, save_generator, set_rng_state
from ganaudio.utils.device import autocast, resolve_precision, seed_everything
from ganaudio.utils.io import atomic_path
from ganaudio.tracking import Tracker

log = logging.getLogger(__name__)


class TrainingDiverged(GanaudioError, RuntimeError):
    """A loss or a weight became NaN or inf; the message names the step and the checkpoint kept."""


class TrainingInterrupted(GanaudioError, RuntimeError):
    """The process that started training is gone; a checkpoint was saved and a rerun resumes it."""


@dataclass
class Monitor:
    """Scores the sampling generator on held-out data every `train.monitor_every` steps.

    `score(generator, step)` returns metrics (logged as `valid/<name>`); `key` is the one that
    picks `best.pt` (and stops the run after `train.monitor_patience` scores without a new best).
    It must not touch the global RNGs' streams: the loop restores them afterwards anyway.
    """

    score: Callable[[nn.Module, int], dict]
    key: str
    higher_is_better: bool = False


@dataclass
class WarmStart:
    """Weights to start from instead of the seeded initialisation (fresh optimisers).

    `describe` (JSON-able: the source, a model version, a weights digest) enters the run's
    identity, so a run warm-started from another model is never resumed as this one.
    """

    generator: dict
    critic: Optional[dict]
    describe: dict


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
              model_config: dict, data_shape: tuple, conditional: bool = False,
              monitor: Optional[Monitor] = None, warm_start: Optional[WarmStart] = None) -> dict:
    """Train (or resume) a GAN into `run_dir`; returns a summary (steps, seconds, steps_per_s, final, start, rank).

    Build the models after seeding with `cfg.seed` (equal params, equal initial weights). Writes
    checkpoints/initial.pt (the untrained step-0 models, also under a warm start),
    checkpoints/latest.pt, generator.pt (the EMA weights when kept), best.pt (with a monitor),
    metrics.csv and loss_curve.png. Under torchrun, only rank 0 writes.
    """
    d = distributed.setup(runtime.device)
    ok = False
    run_dir = Path(run_dir)
    try:
        with RunLock(run_dir) if d.is_main else contextlib.nullcontext():
            out = _train(kind, generator, critic, dataset, cfg, run_dir, runtime, tracker or Tracker(),
                         model_config, tuple(data_shape), conditional, d, monitor, warm_start)
        ok = True
        return out
    finally:
        if ok:
            distributed.teardown(d)
        elif d.owns_group:  # no barrier: the other ranks may be gone
            torch.distributed.destroy_process_group()


@dataclass
class StepContext:
    """What one training step uses besides the `TrainState`: the networks as the step calls them
    (DDP-wrapped or compiled; the state holds the plain ones), the loss and the precision."""

    g: nn.Module
    c: nn.Module
    loss: object  # losses.adversarial.WGANGP | Hinge
    ema_decay: float
    device: torch.device
    precision: str  # "fp32" | "bf16" (autocast over fp32 weights)

    def amp(self):
        return autocast(self.device, self.precision)


def train_step(state: TrainState, batch: list[tuple[torch.Tensor, Optional[torch.Tensor]]], ctx: StepContext) -> dict:
    """One step: a critic update per real batch in `batch` (the recipe's critic_steps), one generator
    update, the EMA update. Returns the step's metrics (0-d tensors, `adv/` and `other/`); a
    critic loss that was NaN/inf at any of the critic updates is reported as NaN."""
    generator, critic, opt_g, opt_d = state.generator, state.critic, state.opt_g, state.opt_d
    bad_d = torch.zeros((), dtype=torch.bool, device=ctx.device)
    for real, cond in batch:
        with torch.no_grad(), ctx.amp():
            fake = ctx.g(generator.sample_latent(real.shape[0], device=ctx.device), cond)
        with ctx.amp():
            d_loss, m_d = ctx.loss.critic_loss(ctx.c, real, fake, cond)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        gn_d = nn.utils.clip_grad_norm_(critic.parameters(), math.inf)  # the norm, no clipping
        opt_d.step()
        bad_d |= ~torch.isfinite(d_loss.detach())

    # The generator step scores fakes with the plain critic, frozen: no DDP all-reduce of
    # critic gradients nobody uses.
    critic.requires_grad_(False)
    with ctx.amp():
        fake = ctx.g(generator.sample_latent(real.shape[0], device=ctx.device), cond)
        g_loss, m_g = ctx.loss.generator_loss(critic, fake, cond)
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    gn_g = nn.utils.clip_grad_norm_(generator.parameters(), math.inf)
    opt_g.step()
    critic.requires_grad_(True)
    state.step += 1
    if state.ema is not None:
        update_ema(state.ema, generator, ema_decay(ctx.ema_decay, state.step))
    m_d["adv/critic_loss"] = torch.where(bad_d, torch.nan, m_d["adv/critic_loss"])
    return {**m_d, **m_g, "other/grad_norm_d": gn_d, "other/grad_norm_g": gn_g}


def build_state(kind: str, generator: nn.Module, critic: nn.Module, cfg: TrainConfig, model_config: dict,
                data_shape: tuple, identity: Optional[dict] = None) -> TrainState:
    """A fresh state at step 0: the two networks as given, their Adam optimisers, the EMA if kept."""
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr_g, betas=tuple(cfg.betas))
    opt_d = torch.optim.Adam(critic.parameters(), lr=cfg.lr_d, betas=tuple(cfg.betas))
    ema = make_ema(generator) if cfg.ema_decay > 0 else None
    return TrainState(kind, generator, critic, opt_g, opt_d, to_dict(cfg), dict(model_config), tuple(data_shape),
                      identity=identity or {}, ema=ema)


class _Log:
    """Averages step metrics over `log_every` steps into rows of metrics.csv (and the tracker)."""

    def __init__(self, rows: list[dict]):
        self.rows, self.sums, self.n, self.t = rows, {}, 0, time.perf_counter()
        self.last = rows[-1] if rows else {}

    def add(self, metrics: dict) -> None:
        for k, v in metrics.items():
            self.sums[k] = self.sums.get(k, 0.0) + v.detach().float()
        self.n += 1

    def row(self, state: TrainState) -> dict:
        now = time.perf_counter()
        row = {k: float(v) / self.n for k, v in self.sums.items()}
        row.update({"other/steps_per_s": self.n / max(now - self.t, 1e-9),
                    "other/lr_g": state.opt_g.param_groups[0]["lr"], "other/lr_d": state.opt_d.param_groups[0]["lr"]})
        self.sums, self.n, self.t, self.last = {}, 0, now, row
        return row


def _real_batches(loader: DataLoader, state: TrainState, data_shape: tuple, conditional: bool,
                  device: torch.device) -> Iterator[tuple[torch.Tensor, Optional[torch.Tensor]]]:
    """(x, labels or None) on `device`, counting each batch drawn in `state.batches`."""
    for batch in loader:
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
        yield x.to(device, non_blocking=True), (y.to(device, non_blocking=True) if conditional else None)


def _train(kind, generator, critic, dataset, cfg, run_dir, runtime, tracker, model_config, data_shape,
           conditional, d: distributed.Dist, monitor: Optional[Monitor], warm_start: Optional[WarmStart]) -> dict:
    if cfg.critic_steps < 1 or cfg.batch_size < 1 or cfg.log_every < 1 or cfg.checkpoint_every < 1:
        raise ValueError("train.critic_steps, batch_size, log_every and checkpoint_every must all be >= 1")
    device = d.device
    latest, csv_path = run_dir / "checkpoints" / "latest.pt", run_dir / "metrics.csv"
    state, ctx, start, last_good = _start(kind, generator, critic, dataset, cfg, run_dir, runtime, tracker,
                                           model_config, data_shape, d, warm_start)
    resumed = state.step if start["mode"] in ("resumed", "finished") else None

    # Workers only on CUDA: on CPU they would fight the training math for the same cores.
    sampler = SeededBatches(len(dataset), cfg.batch_size, cfg.seed, d.rank, d.world_size, start=state.batches)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=runtime.workers if device.type == "cuda" else 0,
                        pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(cfg.seed))
    reals = _real_batches(loader, state, data_shape, conditional, device)

    def checkpoint() -> tuple[Path, int]:
        if not distributed.all_true(_finite(state), d):
            raise TrainingDiverged(
                f"step {state.step}: a weight is NaN/inf, so no checkpoint was written; lower train.lr_d and "
                f"train.lr_g or check the data; last good checkpoint kept: {last_good[0]} (step {last_good[1]})")
        if seconds_before is not None:
            state.seconds = seconds_before + time.perf_counter() - t0
        return _checkpoint(state, latest, d)

    parent = ParentWatch()
    log_ = _Log(_read_rows(csv_path, state.step) if resumed is not None else [])
    t0 = time.perf_counter()
    seconds_before, start_step = state.seconds, state.step
    bar = tqdm(total=cfg.steps, initial=state.step, desc=f"train {kind}", unit="step",
               disable=not (runtime.progress and d.is_main))
    while state.step < cfg.steps and not state.finished:
        metrics = train_step(state, [next(reals) for _ in range(cfg.critic_steps)], ctx)
        bar.update(1)
        bad = [k for k in ("adv/critic_loss", "adv/gen_loss") if not bool(torch.isfinite(metrics[k]))]
        if not distributed.all_true(not bad, d):
            if d.is_main:
                _write_rows(csv_path, log_.rows)
            bar.close()
            raise TrainingDiverged(
                f"step {state.step}: {bad[0] if bad else 'a loss on another rank'} is NaN/inf; lower train.lr_d "
                f"and train.lr_g or check the data for NaN/inf; last good checkpoint kept: {last_good[0]} "
                f"(step {last_good[1]})")
        log_.add(metrics)
        row = log_.row(state) if state.step % cfg.log_every == 0 or state.step == cfg.steps else None

        if monitor is not None and cfg.monitor_every and (state.step % cfg.monitor_every == 0 or state.step == cfg.steps):
            scores = _run_monitor(monitor, state, run_dir, d, cfg.monitor_patience)
            if d.is_main:
                tracker.log_metrics({f"valid/{k}": v for k, v in scores.items()}, step=state.step)
            if row is not None:
                row.update({f"valid/{k}": v for k, v in scores.items()})

        if row is not None and d.is_main:
            tracker.log_metrics({k: v for k, v in row.items() if not k.startswith("valid/")}, step=state.step)
            log_.rows.append({"step": state.step, **row})
            _write_rows(csv_path, log_.rows)
            bar.set_postfix(d=f"{row['adv/critic_loss']:.3f}", g=f"{row['adv/gen_loss']:.3f}")

        if state.step % cfg.checkpoint_every == 0 or state.step == cfg.steps or state.finished:
            last_good = checkpoint()
        if not distributed.all_true(not parent.orphaned(), d):
            last_good = checkpoint()
            bar.close()
            raise TrainingInterrupted(f"the process that started training (PID {parent.parent}) is gone; saved "
                                      f"{last_good[0]} at step {last_good[1]}; rerun `dvc repro` to resume")
    bar.close()

    seconds = time.perf_counter() - t0
    if d.is_main:
        _finish(state, run_dir, log_.rows, tracker)
    distributed.barrier(d)
    done = state.step - start_step
    return {"steps": state.step, "steps_run": done, "rank": d.rank, "resumed_from": resumed, "seconds": seconds,
            "start": start, "train_seconds": state.seconds,  # over all runs that built this checkpoint; None if unknown
            "steps_per_s": done / seconds if seconds > 0 else 0.0,
            "final": {k: v for k, v in log_.last.items() if k != "step"},
            "monitor": dict(state.monitor), "stopped_early": state.finished and state.step < cfg.steps,
            "identity": {"data": state.identity["data"], "code": state.identity["code"]},
            "precision": ctx.precision, "checkpoint": str(latest), "generator": str(run_dir / "generator.pt")}


def _start(kind, generator, critic, dataset, cfg, run_dir, runtime, tracker, model_config, data_shape,
           d: distributed.Dist, warm_start: Optional[WarmStart]) -> tuple[TrainState, StepContext, dict, tuple[Path, int]]:
    """Build the state (seeded, warm-started, or resumed from `latest.pt`) and the step's context;
    write initial.pt on a fresh start. Returns (state, context, start, the last good checkpoint)."""
    device = d.device
    if d.is_main:
        clean_stale_temp_files(run_dir)
    generator.to(device).train()
    critic.to(device).train()
    precision = resolve_precision(cfg.precision or runtime.precision, device)  # the recipe's, else the machine's
    identity = run_identity(to_dict(cfg), dict(model_config), data_shape, dataset_fingerprint(dataset),
                            training_code_version(generator, critic),
                            warm_start.describe if warm_start is not None else None, precision=precision)
    untrained = (_state_dicts(generator, critic) if warm_start is not None else None)
    if warm_start is not None:
        _load_warm_start(generator, critic, warm_start)
    state = build_state(kind, generator, critic, cfg, model_config, data_shape, identity)
    seed_everything(cfg.seed + d.rank)

    start = _resume_or_restart(state, run_dir, device, d)
    if d.is_main:
        log.info("%s: %s (%s; %s)", kind, start["mode"], start["reason"], precision)
        tracker.set_tags({"train.start": start["mode"], "train.start_reason": start["reason"][:5000],
                          "train.data_fingerprint": identity["data"][:16], "train.code_version": identity["code"][:16],
                          "train.precision": precision})

    g, c = distributed.wrap(generator, d), distributed.wrap(critic, d)
    if runtime.compile:
        g, c = torch.compile(g), torch.compile(c)
    ctx = StepContext(g, c, build_loss(cfg), cfg.ema_decay, device, precision)

    latest = run_dir / "checkpoints" / "latest.pt"
    if start["mode"] in ("resumed", "finished"):
        if len(state.rng) == d.world_size:
            set_rng_state(state.rng[d.rank])
        else:  # resumed with another world size: continue, but not bit-exactly
            log.warning("%s: saved with %d rank(s), resuming with %d; RNG streams reseeded",
                        latest, len(state.rng), d.world_size)
            seed_everything(cfg.seed + d.rank + 7919 * state.step)
        last_good = (latest, state.step)
    else:
        last_good = _checkpoint(state, run_dir / "checkpoints" / "initial.pt", d, weights=untrained)
    return state, ctx, start, last_good


def _finish(state: TrainState, run_dir: Path, rows: list[dict], tracker: Tracker) -> None:
    """Rank 0, after the last step: generator.pt, metrics.csv, the loss curve; drop the superseded run."""
    latest, csv_path = run_dir / "checkpoints" / "latest.pt", run_dir / "metrics.csv"
    if not latest.exists():  # steps: 0; otherwise the loop saved the last step
        state.save(latest)
    save_generator(run_dir / "generator.pt", state)
    _write_rows(csv_path, rows)
    if rows:
        from ganaudio.plots.curves import plot_loss_curves

        plot_loss_curves(csv_path, run_dir / "loss_curve.png")
        tracker.log_artifact(run_dir / "loss_curve.png")
    shutil.rmtree(run_dir / PREVIOUS, ignore_errors=True)  # the superseded run: the new one is complete


PREVIOUS = "previous"  # superseded run files wait here until the new run has finished
RUN_FILES = ("checkpoints", "metrics.csv", "generator.pt", "best.pt", "loss_curve.png")


def _resume_or_restart(state: TrainState, run_dir: Path, device, d: distributed.Dist) -> dict:
    """Load `latest.pt` into `state` when it is an interrupted run of the same identity.

    Returns {"mode": fresh | resumed | finished | restarted, "reason": ...}. On a restart the old
    run's files move to `run_dir/previous/` (rank 0), kept until the new run has finished.
    """
    latest = run_dir / "checkpoints" / "latest.pt"
    if not latest.exists():
        return {"mode": "fresh", "reason": f"no checkpoint in {run_dir}"}
    ckpt = load_checkpoint(latest, map_location=device)
    why = state.same_run(ckpt)
    if why is None:
        state.load_from(ckpt)
        done = state.finished or state.step >= state.train_config["steps"]
        return {"mode": "finished" if done else "resumed",
                "reason": f"{latest} is the same run at step {state.step}" + (" (already complete)" if done else "")}
    if d.is_main:
        previous = run_dir / PREVIOUS
        if previous.exists():
            # An earlier restart never finished: what sits in run_dir is its partial run; the
            # complete superseded run stays in previous/.
            for name in RUN_FILES:
                _remove(run_dir / name)
        else:
            previous.mkdir()
            for name in RUN_FILES:
                if (run_dir / name).exists():
                    (run_dir / name).rename(previous / name)
    distributed.barrier(d)
    return {"mode": "restarted", "reason": f"{latest} is another run ({why}); training from scratch, "
                                          f"the old files kept in {run_dir / PREVIOUS} until this run finishes"}


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _finite(state: TrainState) -> bool:
    modules = [state.generator, state.critic] + ([state.ema] if state.ema is not None else [])
    return all(bool(torch.isfinite(p).all()) for m in modules for p in m.parameters())


def _state_dicts(generator: nn.Module, critic: nn.Module) -> dict:
    from ganaudio.models.layers import unwrap

    return {"generator": {k: v.detach().clone() for k, v in unwrap(generator).state_dict().items()},
            "critic": {k: v.detach().clone() for k, v in unwrap(critic).state_dict().items()}}


def _load_warm_start(generator: nn.Module, critic: nn.Module, warm: WarmStart) -> None:
    from ganaudio.models.layers import unwrap

    unwrap(generator).load_state_dict(warm.generator)
    if warm.critic is not None:
        unwrap(critic).load_state_dict(warm.critic)


@contextlib.contextmanager
def _rng_preserved() -> Iterator[None]:
    """Run something that may draw random numbers without moving the training's streams."""
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        yield
    np.random.set_state(np_state)
    random.setstate(py_state)


def _run_monitor(monitor: Monitor, state: TrainState, run_dir: Path, d: distributed.Dist, patience: int) -> dict:
    """Score on rank 0, keep best.pt on a new best, and decide (on every rank) whether to stop early."""
    scores: dict = {}
    stop = False
    if d.is_main:
        gen = state.sampling_generator()
        was_training = gen.training
        gen.eval()
        with _rng_preserved(), torch.no_grad():
            scores = {k: float(v) for k, v in monitor.score(gen, state.step).items()}
        gen.train(was_training)
        value, best = scores[monitor.key], state.monitor.get("best")
        better = best is None or (value > best if monitor.higher_is_better else value < best)
        if better:
            state.monitor.update(key=monitor.key, best=value, best_step=state.step, since_best=0)
            save_generator(run_dir / "best.pt", state)
        else:
            state.monitor["since_best"] = state.monitor.get("since_best", 0) + 1
        stop = bool(patience) and state.monitor["since_best"] >= patience
        if stop:
            log.info("monitor: no new best %s in %d scores (best %.4g at step %d); stopping at step %d",
                     monitor.key, patience, state.monitor["best"], state.monitor["best_step"], state.step)
    state.finished = not distributed.all_true(not stop, d)
    return scores


def _checkpoint(state: TrainState, path: Path, d: distributed.Dist, weights: dict | None = None) -> tuple[Path, int]:
    """Save on rank 0 with every rank's RNG state (all ranks must call this together).

    `weights` (generator/critic state dicts) replace the models' current ones in the file: the
    untrained initialisation written as initial.pt under a warm start.
    """
    state.rng = distributed.gather(rng_state(), d)
    if d.is_main:
        if weights is None:
            state.save(path)
        else:
            blob = state.to_dict()
            blob.update(weights)
            blob.pop("generator_ema", None)
            with atomic_path(path) as tmp:
                torch.save(blob, tmp)
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
