"""Train and evaluate PianoGAN variants side by side, without DVC or MLflow.

Each variant is params.yaml's `pianogan` section with overrides, trained by the same
`ganaudio.tasks.pianogan.train` the DVC stage calls, then scored by `evaluate` (the metrics of
reports/pianogan/metrics.json) against the VALID split: variants are model choices, and the test
split is scored once, by the eval_pianogan stage, for the recipe chosen here (tests prove this
script never opens windows_test.npz). Variants run as parallel processes: on a GPU they share
it; on 2 CPU cores run one at a time (`--jobs 1`), since two contend for the cores.

    python experiments/pianogan_variants.py --out /tmp/variants --jobs 6 base time full
    python experiments/pianogan_variants.py --list

Needs the notes stage's output (data/processed/notes). Writes <out>/<variant>/ (checkpoints)
and <out>/results.json, and prints one row per variant.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.runner import cli, save_result
from ganaudio.config import deep_merge, load_params

_TIME = {"time_head": "categorical"}
_WINDOW = {"global_bias": True, "critic_summary": True}
_KEY = {"key_latent": True}
_MBSTD = {"minibatch_std": True}
_WGANGP = {"loss": "wgan-gp", "spectral_norm": False, "critic_steps": 5, "lr_d": 1e-4, "lr_g": 1e-4,
           "betas": [0.5, 0.9]}
# The screens' starting point, spelled out so the tables stay reproducible whatever the presets say:
# the first cpu recipe (categorical pitch, d=32, hinge + spectral norm, 1 critic step, 1,600 steps).
SCREEN_BASE = {
    "preset": "cpu",
    "model": {"d": 32, "pitch_head": "categorical", "time_head": "continuous", "key_latent": False,
              "global_bias": False, "critic_summary": False, "minibatch_std": False},
    "train": {"loss": "hinge", "spectral_norm": True, "critic_steps": 1, "lr_g": 1e-4, "lr_d": 4e-4,
              "betas": [0.0, 0.9], "batch_size": 64, "steps": 1600, "checkpoint_every": 200},
}
_SCREEN = {
    "base": {},
    "base_seed1": {"train": {"seed": 1}},
    "time": {"model": _TIME},
    "time_bias": {"model": {**_TIME, "global_bias": True}},
    "full": {"model": {**_TIME, **_WINDOW}},
    "window": {"model": _WINDOW},
    "full_mbstd": {"model": {**_TIME, **_WINDOW, **_MBSTD}},
    "full_long": {"model": {**_TIME, **_WINDOW}, "train": {"steps": 3200}},
    "full_wgangp": {"model": {**_TIME, **_WINDOW}, "train": _WGANGP},
    "key": {"model": _KEY},
    "key_seed1": {"model": _KEY, "train": {"seed": 1}},
    "key_compiled": {"model": _KEY, "runtime": {"compile": True}},
    "key_window": {"model": {**_KEY, **_WINDOW}},
    "key_mbstd": {"model": {**_KEY, **_MBSTD}},
    "key_time_mbstd": {"model": {**_KEY, **_TIME, **_MBSTD}},
    "key_full_mbstd": {"model": {**_KEY, **_TIME, **_WINDOW, **_MBSTD}},
    "key_full_mbstd_seed1": {"model": {**_KEY, **_TIME, **_WINDOW, **_MBSTD}, "train": {"seed": 1}},
    "key_full_wgangp": {"model": {**_KEY, **_TIME, **_WINDOW}, "train": _WGANGP},
    "key_full_wgangp_c2": {"model": {**_KEY, **_TIME, **_WINDOW}, "train": {**_WGANGP, "critic_steps": 2}},
    # sized for 15 CPU minutes on 2 cores (0.64 steps/s at d=32, 1.27 at d=16, 2.4 at d=16 batch 32)
    "c2_d32_550": {"model": {**_KEY, **_TIME, **_WINDOW}, "train": {**_WGANGP, "critic_steps": 2, "steps": 550}},
    "c2_d32_550_seed1": {"model": {**_KEY, **_TIME, **_WINDOW},
                         "train": {**_WGANGP, "critic_steps": 2, "steps": 550, "seed": 1}},
    "c2_d16_1100": {"model": {**_KEY, **_TIME, **_WINDOW, "d": 16},
                    "train": {**_WGANGP, "critic_steps": 2, "steps": 1100}},
    "c2_d16_1100_seed1": {"model": {**_KEY, **_TIME, **_WINDOW, "d": 16},
                          "train": {**_WGANGP, "critic_steps": 2, "steps": 1100, "seed": 1}},
    "c2_d16_b32_2000": {"model": {**_KEY, **_TIME, **_WINDOW, "d": 16},
                        "train": {**_WGANGP, "critic_steps": 2, "steps": 2000, "batch_size": 32}},
    "c1_d16_1600": {"model": {**_KEY, **_TIME, **_WINDOW, "d": 16},
                    "train": {**_WGANGP, "critic_steps": 1, "steps": 1600}},
}
SELECTION_SPLIT = "valid"
VARIANTS: dict[str, dict] = {name: deep_merge(SCREEN_BASE, o) for name, o in _SCREEN.items()}
VARIANTS["cpu_preset"] = {}  # params.yaml's pianogan section as it stands
VARIANTS["cpu_preset_seed1"] = {"train": {"seed": 1}}
# Screen 6 (issue 9), selected on valid with the structure score: the pitch range and register.
VARIANTS["range_prior"] = {"model": {"pitch_range_prior": True}}
VARIANTS["range_prior_register"] = {"model": {"pitch_range_prior": True, "register_latent": True}}
VARIANTS["range_prior_tau05"] = {"model": {"pitch_range_prior": True, "gumbel_tau": 0.5}}
# Screen 7 (issue 18), valid split, order score: what makes the generator commit to an order.
# Equal steps are equal minutes here: the variants cost the same per step (steps/s is recorded).
VARIANTS["s7_gumbel"] = {}
VARIANTS["s7_argmax"] = {"model": {"train_notes": "argmax", "pitch_sampling": "argmax"}}
VARIANTS["s7_soft"] = {"model": {"train_notes": "softmax", "pitch_sampling": "argmax"}}
VARIANTS["s7_soft_order"] = {"model": {"train_notes": "softmax", "pitch_sampling": "argmax", "critic_order": True}}
VARIANTS["s7_gumbel_order"] = {"model": {"critic_order": True}}
_SOFT = {"train_notes": "softmax", "pitch_sampling": "argmax"}
VARIANTS["s8_soft_hn3"] = {"model": {**_SOFT, "head_norm_gain": 3.0}}
VARIANTS["s8_gumbel_hn3"] = {"model": {"head_norm_gain": 3.0}}
VARIANTS["s7_soft_noise"] = {"model": {"train_notes": "softmax", "pitch_sampling": "argmax", "position_noise": True}}


def run_variant(name: str, overrides: dict, params: str, notes_dir: str, out: str, threads: int) -> dict:
    import torch

    from ganaudio.tasks.pianogan import evaluate, train

    torch.set_num_threads(threads)
    overrides = dict(overrides)
    runtime = {"mlflow": False, "progress": False, **overrides.pop("runtime", {})}
    p = load_params(params, {"pianogan": overrides, "runtime": runtime})
    model_dir = Path(out) / name
    t0 = time.perf_counter()
    summary = train(p.pianogan, p.runtime, Path(notes_dir), model_dir)
    seconds = time.perf_counter() - t0
    metrics = evaluate(p.pianogan, model_dir, Path(notes_dir), split=SELECTION_SPLIT)
    result = {"variant": name, "overrides": overrides, "train_seconds": seconds,
              "steps_per_s": summary["steps_per_s"], "steps": p.pianogan.train.steps, **metrics}
    save_result(out, result)  # kept if a later variant fails
    return result


def row(r: dict) -> str:
    h, rows = r["headline"], r["rows"]
    t = rows["trained"]
    ent = r.get("head_entropy", {}).get("trained", {})
    return (f"{r['variant']:22s} {h['score']:7.3f} {t['structure_score']['std']:6.3f} "
            f"{t['order_score']['mean']:7.3f} {ent.get('pitch', float('nan')):5.2f} "
            f"{h['baseline_score']:7.3f} {h['baseline_std']:6.3f} {100 * h['copy_share']:6.1f} "
            f"{t['novelty']['longest_run_median']['mean']:5.1f} {t['out_of_range_share']['mean']:6.3f} "
            f"{rows['untrained']['structure_score']['mean']:7.3f} {'pass' if h['passed'] else 'FAIL':>5s} "
            f"{r['train_seconds']:7.1f}")


HEADER = (f"{'variant':22s} {'score':>7s} {'std':>6s} {'order':>7s} {'H_pit':>5s} {'iid':>7s} {'std':>6s} {'copy%':>6s} {'run':>5s} "
          f"{'outside':>6s} {'untrnd':>7s} {'gate':>5s} {'train_s':>7s}")


def main(argv=None) -> int:
    header = (f"structure score vs {SELECTION_SPLIT} (0 = iid_notes, 1 = reference), mean and std over draws\n"
              + HEADER)
    return cli(__doc__, VARIANTS, run_variant, row, header, "notes", "data/processed/notes", ["base", "full"], argv)


if __name__ == "__main__":
    raise SystemExit(main())
