"""PianoGAN's peer: train the autoregressive LSTM (models/note_lstm.py) on the same windows, sample it.

Not a GAN, so not the shared adversarial loop: maximum likelihood, one short loop. It exists to
answer "would a user do better with the usual sequence model?" on the same evaluation table.
"""

from __future__ import annotations

import csv
import logging
import time
from pathlib import Path

import numpy as np
import torch

from ganaudio.config import PianoPeerConfig, to_dict
from ganaudio.data.windows import NoteStats, raw_windows
from ganaudio.errors import MissingInputError
from ganaudio.models.note_lstm import NoteLSTM, detokenize, tokenize
from ganaudio.utils.io import atomic_path
from ganaudio.tracking import Tracker

log = logging.getLogger(__name__)
CHECKPOINT = "peer.pt"


def build(cfg: PianoPeerConfig) -> NoteLSTM:
    return NoteLSTM(time_bins=cfg.time_bins, embed=cfg.embed, hidden=cfg.hidden, layers=cfg.layers)


def train(cfg: PianoPeerConfig, notes_dir: Path, out_dir: Path, tracker: Tracker = Tracker()) -> dict:
    """`cfg.steps` Adam steps of teacher-forced cross-entropy on random batches of training windows."""
    from ganaudio.utils.device import seed_everything

    raw = raw_windows(notes_dir, "train")
    vel_mean, vel_std = velocity_scale(NoteStats.from_json(Path(notes_dir) / "stats.json"))
    tokens = torch.as_tensor(tokenize(raw, cfg.time_bins))  # (N, L, 3)
    velocity = torch.as_tensor((raw[..., 3] - vel_mean) / vel_std, dtype=torch.float32)  # (N, L)
    seed_everything(cfg.seed)
    model = build(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    batches = torch.Generator().manual_seed(cfg.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, t0 = [], time.perf_counter()
    for step in range(1, cfg.steps + 1):
        idx = torch.randint(len(tokens), (cfg.batch_size,), generator=batches)
        loss, parts = model.loss(tokens[idx], velocity[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"pianogan.peer: loss is {float(loss)} at step {step}; lower pianogan.peer.lr")
        if step % cfg.log_every == 0 or step == cfg.steps:
            row = {"step": step, "nll/total": float(loss.detach()), **parts}
            rows.append(row)
            tracker.log_metrics({k: v for k, v in row.items() if k != "step"}, step=step)
    seconds = time.perf_counter() - t0
    with atomic_path(out_dir / CHECKPOINT) as tmp:
        torch.save({"state_dict": model.state_dict(), "config": to_dict(cfg), "step": cfg.steps,
                    "velocity_scale": [vel_mean, vel_std]}, tmp)
    with atomic_path(out_dir / "metrics.csv") as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = {"steps": cfg.steps, "seconds": seconds, "minutes": seconds / 60, "steps_per_s": cfg.steps / seconds,
               "final_nll": rows[-1]["nll/total"], "threads": torch.get_num_threads()}
    log.info("peer: %s", summary)
    return summary


def velocity_scale(stats: NoteStats) -> tuple[float, float]:
    """(mean, std) of the notes stage's velocity standardisation: the peer and the GAN share it."""
    return float(stats.mean[3]), float(stats.std[3])


def read(model_dir: Path) -> dict:
    """The peer's checkpoint: state_dict, config, velocity_scale."""
    path = Path(model_dir) / CHECKPOINT
    if not path.exists():
        raise MissingInputError(f"{path} is missing; run `dvc repro train_pianoar` first")
    return torch.load(path, map_location="cpu", weights_only=True)


def load(model_dir: Path) -> tuple[NoteLSTM, PianoPeerConfig, tuple[float, float]]:
    ckpt = read(model_dir)
    cfg = PianoPeerConfig(**ckpt["config"])
    model = build(cfg)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), cfg, tuple(ckpt["velocity_scale"])


def generate_notes(model_dir: Path, n: int, length: int, seed: int) -> np.ndarray:
    """n windows of `length` raw notes (n, length, 4), sampled note by note, reproducible from `seed`."""
    model, cfg, (vel_mean, vel_std) = load(model_dir)
    tokens, velocity = model.sample(n, length, torch.Generator().manual_seed(seed), cfg.temperature)
    return detokenize(tokens.numpy(), velocity.numpy() * vel_std + vel_mean, cfg.time_bins)
