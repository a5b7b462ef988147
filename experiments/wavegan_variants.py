"""Train WaveGAN variants and score them on the VALID split as they train, without DVC or MLflow.

Each variant is params.yaml's `wavegan` section with overrides, trained by the same
`ganaudio.tasks.wavegan.train` the DVC stage calls, in chunks of `--every` steps (a run resumes
exactly where it stopped); after each chunk the judge scores the latest generator against the
valid split. One variant at a time: on 2 CPU cores two would contend for the cores.

    python experiments/wavegan_variants.py --out /tmp/wavegan_variants hinge_d8 wgangp_d8
    python experiments/wavegan_variants.py --list

Needs data/processed/{waves,mels} and models/classifier/classifier.pt. Writes <out>/<variant>/
(checkpoints) and <out>/results.json, and prints one row per scored checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganaudio.config import deep_merge, load_params

# The screens: d=8, batch 32 (the step cost the same-minutes budget affords ~8,000 of), one thing changed each.
_HINGE = {"loss": "hinge", "spectral_norm": True, "critic_steps": 1, "lr_g": 1e-4, "lr_d": 4e-4, "betas": [0.0, 0.9],
          "batch_size": 32}
_WGANGP = {"loss": "wgan-gp", "spectral_norm": False, "critic_steps": 1, "lr_g": 1e-4, "lr_d": 1e-4,
           "betas": [0.5, 0.9], "batch_size": 32}
VARIANTS: dict[str, dict] = {
    "cpu_preset": {},  # params.yaml's wavegan section as it stands
    "hinge_d8": {"model": {"d": 8}, "train": _HINGE},  # SpectoGAN's cpu recipe
    "hinge_d8_lrg4": {"model": {"d": 8}, "train": {**_HINGE, "lr_g": 4e-4}},
    "wgangp_d8_c1_lr2": {"model": {"d": 8}, "train": {**_WGANGP, "lr_g": 2e-4, "lr_d": 2e-4}},
    "wgangp_d8_c2": {"model": {"d": 8}, "train": {**_WGANGP, "critic_steps": 2}},
    "hinge_d16": {"model": {"d": 16}, "train": _HINGE},
    # Issue 19, on the cpu preset: capacity where bf16 autocast pays for it, and a second critic on log-mel.
    "cpu_bf16": {"train": {"precision": "bf16"}},
    "d16_bf16": {"model": {"d": 16}, "train": {"precision": "bf16"}},
    "mel_d8_bf16": {"model": {"mel_critic": True}, "train": {"precision": "bf16"}},
    "mel_d16_bf16": {"model": {"d": 16, "mel_critic": True}, "train": {"precision": "bf16"}},
    # SpectoGAN's two critic-side choices, conditioning (a projection critic) and the minibatch-std channel.
    "cond_bf16": {"model": {"conditional": True}, "train": {"precision": "bf16"}},
    "cond_mbstd_bf16": {"model": {"conditional": True, "minibatch_std": True}, "train": {"precision": "bf16"}},
    # The WaveGAN paper's own remedy for transposed convolutions' tonal artefacts, with a kernel the
    # cost allows (nearest x4 then a 9-tap conv: 1.44x the 25-tap transposed conv's FLOPs); the critic's
    # kernel follows (9 taps, stride 4).
    "nn9_bf16": {"model": {"upsample": "nearest", "kernel_size": 9}, "train": {"precision": "bf16"}},
    # Vocos's iSTFT head: the generator stops at 256 STFT frames (hop 64), so it can be wider for
    # about the cost of the paper's layers at 4,096 and 16,384 samples; the critic stays at d=8.
    "istft_d16_bf16": {"model": {"output": "istft", "d": 16, "critic_d": 8}, "train": {"precision": "bf16"}},
}


def run(name: str, out: Path, steps: int, every: int, n_eval: int, minutes: float | None = None,
        seed: int = 0) -> list[dict]:
    """Score every `every` steps up to `steps`, or until the run has trained `minutes` (equal-minutes screens)."""
    import torch

    from ganaudio.config import RuntimeConfig
    from ganaudio.tasks import wavegan
    from ganaudio.tasks.common import balanced_digits, latest_checkpoint
    from ganaudio.tasks.judge import DigitJudge

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    # This script scores each chunk itself: the stage's valid monitor (best.pt, early stop) is off.
    overrides = {"train": {"steps": steps, "monitor_every": 0, "seed": seed}}
    params = load_params("params.yaml", {"wavegan": deep_merge(VARIANTS[name], overrides)})
    run_dir = out / (name if seed == 0 else f"{name}_seed{seed}")
    cfg = params.wavegan
    judge = DigitJudge(Path("data/processed/mels"), Path("models/classifier/classifier.pt"), "valid", seed=cfg.eval.seed)
    rows = []
    targets = list(range(every, steps + 1, every))
    if not targets or targets[-1] != steps:
        targets.append(steps)  # the last score is at `steps` itself
    for target in targets:
        cfg.train.steps = target
        t0 = time.perf_counter()
        summary = wavegan.train(cfg, RuntimeConfig(workers=0, progress=False, mlflow=False),
                                Path("data/processed/waves"), run_dir)
        sampler = wavegan.Sampler(latest_checkpoint(run_dir, "wavegan"))
        asked = balanced_digits(n_eval) if sampler.conditional else None  # as eval_wavegan asks
        audio = sampler.audio(n_eval, cfg.eval.seed, labels=asked)
        probs, feats = judge.embed(judge.analyse(audio))  # once, for the figures and the digits heard
        figs = judge.figures(probs, feats)
        heard = torch.bincount(torch.from_numpy(probs.argmax(1)), minlength=10)
        row = {"variant": name, "seed": seed, "step": target, "train_seconds": summary["train_seconds"],
               "steps_per_s": summary["steps_per_s"], "load": os.getloadavg()[0],
               "is_valid": figs["inception_score"]["mean"], "fid_valid": figs["fid"], "ndb_k": figs["ndb_k"],
               "median_rms": float(audio.square().mean(1).sqrt().median()),
               "min_digit_share": float(heard.min()) / n_eval, "chunk_s": time.perf_counter() - t0}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if minutes is not None and summary["train_seconds"] >= 60 * minutes:
            break
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="*")
    ap.add_argument("--out", type=Path, default=Path("/tmp/wavegan_variants"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--n-eval", type=int, default=500, help="generated clips per valid-split score")
    ap.add_argument("--minutes", type=float, help="stop a variant at the first score after this many training minutes")
    ap.add_argument("--seed", type=int, default=0, help="train.seed; a nonzero seed runs in <variant>_seed<N>/")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list or not args.variants:
        print("\n".join(f"{k}: {v}" for k, v in VARIANTS.items()))
        return
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {unknown}; --list shows them")
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for name in args.variants:
        key = name if args.seed == 0 else f"{name}_seed{args.seed}"
        results[key] = run(name, args.out, args.steps, args.every, args.n_eval, args.minutes, args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
