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
from ganaudio.data.windows import raw_windows
from ganaudio.errors import MissingInputError
from ganaudio.models.note_lstm import NoteLSTM, detokenize, tokenize
from ganaudio.utils.io import atomic_path
from ganaudio.utils.tracking import Tracker

log = logging.getLogger(__name__)
CHECKPOINT = "peer.pt"


def build(cfg: PianoPeerConfig) -> NoteLSTM:
    return NoteLSTM(time_bins=cfg.time_bins, embed=cfg.embed, hidden=cfg.hidden, layers=cfg.layers)


def train(cfg: PianoPeerConfig, notes_dir: Path, out_dir: Path, tracker: Tracker = Tracker()) -> dict:
    """`cfg.steps` Adam steps of teacher-forced cross-entropy on random batches of training windows."""
    from ganaudio.utils.device import seed_everything

    tokens = torch.as_tensor(tokenize(raw_windows(notes_dir, "train"), cfg.time_bins))  # (N, L, 4)
    seed_everything(cfg.seed)
    model = build(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    batches = torch.Generator().manual_seed(cfg.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, t0 = [], time.perf_counter()
    for step in range(1, cfg.steps + 1):
        batch = tokens[torch.randint(len(tokens), (cfg.batch_size,), generator=batches)]
        loss, parts = model.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"pianogan.peer: loss is {float(loss)} at step {step}; lower pianogan.peer.lr")
        if step % cfg.log_every == 0 or step == cfg.steps:
            row = {"step": step, "nll/total": float(loss), **parts}
            rows.append(row)
            tracker.log_metrics({k: v for k, v in row.items() if k != "step"}, step=step)
    seconds = time.perf_counter() - t0
    with atomic_path(out_dir / CHECKPOINT) as tmp:
        torch.save({"state_dict": model.state_dict(), "config": to_dict(cfg), "step": cfg.steps}, tmp)
    with atomic_path(out_dir / "metrics.csv") as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = {"steps": cfg.steps, "seconds": seconds, "minutes": seconds / 60, "steps_per_s": cfg.steps / seconds,
               "final_nll": rows[-1]["nll/total"], "threads": torch.get_num_threads()}
    log.info("peer: %s", summary)
    return summary


def load(model_dir: Path) -> tuple[NoteLSTM, PianoPeerConfig]:
    path = Path(model_dir) / CHECKPOINT
    if not path.exists():
        raise MissingInputError(f"{path} is missing; run `dvc repro train_pianoar` first")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = PianoPeerConfig(**ckpt["config"])
    model = build(cfg)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), cfg


def generate_notes(model_dir: Path, n: int, length: int, seed: int) -> np.ndarray:
    """n windows of `length` raw notes (n, length, 4), sampled note by note, reproducible from `seed`."""
    model, cfg = load(model_dir)
    tokens = model.sample(n, length, torch.Generator().manual_seed(seed), cfg.temperature)
    return detokenize(tokens.numpy(), cfg.time_bins)
