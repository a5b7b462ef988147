"""Train and evaluate SpectoGAN variants side by side on the VALID split, without DVC or MLflow.

Each variant is params.yaml's `spectogan` section with overrides, trained by the same
`ganaudio.tasks.spectogan.train` the DVC stage calls, then scored by `evaluate(split="valid")`:
the eval stage's WaveGAN protocol (IS, FID, NDB/k) against the valid split, so choosing a recipe
never looks at test. Run one at a time on 2 shared CPU cores (`--jobs 1 --threads 1`).

    python experiments/spectogan_variants.py --out /tmp/spv --threads 1 base r1 augment
    python experiments/spectogan_variants.py --list

Needs the mels stage's output and the trained classifier (`dvc repro train_classifier`). Writes
<out>/<variant>/ (checkpoints), <out>/<variant>.json and <out>/results.json, and prints one row
per variant: valid IS (and the real valid set's), FID (and real-through-Griffin-Lim's), NDB/k,
per-digit accuracy of conditional models, steps/s and the load average while training.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.runner import cli, load_now, save_result
from ganaudio.config import deep_merge, load_params

CLASSIFIER = "models/classifier/classifier.pt"

_R1 = {"r1_weight": 1.0}
_AUG = {"augment": ["time", "cutout"]}
_NEAREST = {"upsample": "nearest"}
_MBSTD = {"minibatch_std": True}
_COND = {"conditional": True}
# The screens start from the first cpu recipe plus the generator EMA, spelled out so the table
# stays reproducible whatever the presets say later: 64x64 mels, d=16, hinge + spectral norm,
# 1 critic step, Adam(0, 0.9), lr 1e-4 / 4e-4, batch 64, EMA 0.999, no augmentation or
# penalties; screens run 1,200 steps (under ~8 load on 2 shared cores: ~50 min each) and score
# 250 valid clips every 400 steps (a curve).
SCREEN_BASE = {
    "preset": "cpu",
    "model": {"d": 16, "conditional": False, "upsample": "transposed", "minibatch_std": False},
    "train": {"loss": "hinge", "spectral_norm": True, "critic_steps": 1, "lr_g": 1e-4, "lr_d": 4e-4,
              "betas": [0.0, 0.9], "batch_size": 64, "steps": 1200, "checkpoint_every": 200,
              "r1_weight": 0.0, "r2_weight": 0.0, "augment": [], "ema_decay": 0.999,
              "monitor_every": 400, "log_every": 10},
    "eval": {"n_samples": 1000},
}
_SCREEN = {
    "base": {},
    "no_ema": {"train": {"ema_decay": 0.0}},
    "r1": {"train": _R1},
    "r1_nosn": {"train": {"r1_weight": 10.0, "spectral_norm": False}},
    "r1r2": {"train": {**_R1, "r2_weight": 1.0}},
    "augment": {"train": _AUG},
    "augment_freq": {"train": {"augment": ["time", "freq", "cutout"]}},
    "nearest": {"model": _NEAREST},
    "mbstd": {"model": _MBSTD},
    "lr2": {"train": {"lr_g": 2e-4}},
    "batch32": {"train": {"batch_size": 32}},
    "d24": {"model": {"d": 24}},
    "conditional": {"model": _COND},
    "cond_augment": {"model": _COND, "train": _AUG},
    "cond_lr2": {"model": _COND, "train": {"lr_g": 2e-4}},
}
VARIANTS: dict[str, dict] = {name: deep_merge(SCREEN_BASE, o) for name, o in _SCREEN.items()}
VARIANTS["base"]["raw_row"] = True  # the EMA's own ablation, from the same run
# Screen 3 starts from the conditional cpu recipe of screen 1 and gives every variant the same
# minutes, not the same steps: steps = about 1,150 s x its steps/s on 2 idle cores (measured side by
# side: kernel 5 / batch 64 2.54, kernel 4 / batch 64 3.63, kernel 4 / batch 32 6.88 steps/s;
# benchmarks/bench_spectogan_steps.py kernel4 kernel4_batch32 previous_cpu_preset cpu_preset), with
# valid FID on 250 clips four times along the way. A kernel of 4 is divisible by the stride of 2,
# so every output pixel gets the same number of kernel taps (no checkerboard from uneven overlap,
# Odena et al. 2016), and it costs 16/25 of the 5x5's multiply-adds.
SCREEN3_BASE = deep_merge(SCREEN_BASE, {"model": _COND, "train": {"checkpoint_every": 250}})
_SCREEN3 = {
    "s3_k4": {"model": {"kernel_size": 4}, "train": {"steps": 4200, "monitor_every": 1050}},
    "s3_k4_b32_lr2": {"model": {"kernel_size": 4},
                      "train": {"batch_size": 32, "lr_g": 2e-4, "steps": 7900, "monitor_every": 1975}},
}
_SCREEN3["s3_k4_b32_lr2_mbstd"] = deep_merge(_SCREEN3["s3_k4_b32_lr2"], {"model": _MBSTD})
_SCREEN3["s3_k4_b32_lr2_augment"] = deep_merge(_SCREEN3["s3_k4_b32_lr2"], {"train": _AUG})
VARIANTS.update({name: deep_merge(SCREEN3_BASE, o) for name, o in _SCREEN3.items()})
VARIANTS["cpu_preset"] = {}  # params.yaml's spectogan section as it stands
VARIANTS["cpu_preset_seed1"] = {"train": {"seed": 1}}
VARIANTS["gpu_preset"] = {"preset": "gpu"}  # on a CPU only as a dry run: --set train.steps=2


def raw_weights_row(cfg, model_dir: Path, mels_dir: Path) -> dict:
    """The valid figures of the last iterate's own weights (not the EMA): what the EMA adds."""
    import torch

    from ganaudio.tasks.judge import DigitJudge
    from ganaudio.tasks.common import balanced_digits
    from ganaudio.tasks.spectogan import Sampler

    blob = torch.load(model_dir / "checkpoints/latest.pt", map_location="cpu", weights_only=True)
    blob.pop("generator_ema", None)
    raw = model_dir / "raw_latest.pt"
    torch.save(blob, raw)
    sampler = Sampler(raw, mels_dir, cfg)
    ec = cfg.eval
    asked = balanced_digits(ec.n_samples) if sampler.conditional else None
    judge = DigitJudge(mels_dir, Path(CLASSIFIER), "valid", is_splits=ec.is_splits, ndb_bins=ec.ndb_bins, seed=ec.seed)
    return judge.score_audio(sampler.to_audio(sampler.spectrograms(ec.n_samples, ec.seed, asked)))


def run_variant(name: str, overrides: dict, params: str, mels_dir: str, out: str, threads: int) -> dict:
    import pandas as pd
    import torch

    from ganaudio.tasks.spectogan import evaluate, train

    torch.set_num_threads(threads)
    overrides = dict(overrides)
    raw_row = overrides.pop("raw_row", False)  # also score the non-EMA weights (costs one more pass)
    runtime = {"mlflow": False, "progress": False, **overrides.pop("runtime", {})}
    p = load_params(params, {"spectogan": overrides, "runtime": runtime})
    model_dir = Path(out) / name
    load_before = load_now()
    t0 = time.perf_counter()
    train(p.spectogan, p.runtime, Path(mels_dir), model_dir, classifier_path=Path(CLASSIFIER))
    seconds = time.perf_counter() - t0
    load_after = load_now()
    metrics = evaluate(p.spectogan, model_dir, Path(mels_dir), Path(CLASSIFIER), progress=False, split="valid")
    rows = pd.read_csv(model_dir / "metrics.csv")
    # The median logging interval: robust to the few that include a monitor's scoring.
    steps_per_s = float(rows["other/steps_per_s"].median())
    curve = rows.dropna(subset=["valid/fid"]) if "valid/fid" in rows else rows.iloc[:0]
    result = {"variant": name, "overrides": overrides, "train_seconds": seconds, "threads": threads,
              "steps_per_s": steps_per_s, "steps": p.spectogan.train.steps,
              "load_before": load_before, "load_after": load_after,
              "curve": curve[[c for c in curve.columns if c == "step" or c.startswith("valid/")]].to_dict("records"),
              **metrics}
    if raw_row and p.spectogan.train.ema_decay > 0:
        result["trained_without_ema"] = raw_weights_row(p.spectogan, model_dir, Path(mels_dir))
    save_result(out, result)
    return result


def row(r: dict) -> str:
    isc, fid = r["inception_score"], r["fid"]
    acc = r.get("per_digit_accuracy", {}).get("trained", {}).get("mean")
    return (f"{r['variant']:22s} {isc['trained']['mean']:5.2f}/{isc['real']['mean']:4.2f} "
            f"{fid['trained']:7.1f}/{fid['real_inverted']:5.1f} {r['ndb_k']['trained']:5.2f} "
            f"{'  -  ' if acc is None else f'{acc:5.2f}'} {r['steps_per_s']:5.2f} {r['train_seconds']:7.0f}  "
            f"{r['load_after']}")


HEADER = (f"{'variant':22s} {'IS/real':>10s} {'FID/real_inv':>13s} {'NDB/k':>5s} {'acc':>5s} "
          f"{'st/s':>5s} {'train_s':>7s}  load")

if __name__ == "__main__":
    raise SystemExit(cli(__doc__, VARIANTS, run_variant, row, HEADER, "mels", "data/processed/mels",
                         ["base", "r1", "augment"]))
