"""Clips/s and quality of batched `spectrogram_to_audio` vs librosa's per-clip `mel_to_audio`.

Both invert the same target mel magnitudes (cpu preset, 64 x 64) with fast Griffin-Lim at the same
n_iter and momentum 0.99, after librosa's NNLS mel -> linear step (ours: batched FISTA). Quality is
the spectral convergence of the re-analysed audio's mel magnitude against the target (gain
matched, since ours is peak-normalised). Target: >= 10x. It also measures the mel -> linear choice:
NNLS against the clamped pseudo-inverse given the NNLS time as extra Griffin-Lim iterations.

    python benchmarks/bench_griffinlim.py [--clips 64] [--n-iter 32]
"""

from __future__ import annotations

import argparse
import time

import librosa
import numpy as np
import torch
from tqdm.auto import tqdm

from ganaudio.audio.inversion import griffin_lim, mel_to_linear, spectral_convergence, spectrogram_to_audio
from ganaudio.config import InversionConfig, MelsConfig
from ganaudio.data.mels import EPS, SpectrogramTransform, denormalise, fit_stats, n_samples, normalise


def harmonic_clips(n: int, cfg: MelsConfig, seed: int = 0) -> torch.Tensor:
    """Voice-like test signals: 8 harmonics, vibrato, a syllable envelope, light noise. (N, S)"""
    rng = np.random.default_rng(seed)
    s = n_samples(cfg)
    t = np.arange(s) / cfg.sample_rate
    out = []
    for _ in range(n):
        f0 = rng.uniform(90, 260) * (1 + 0.04 * np.sin(2 * np.pi * rng.uniform(3, 7) * t))
        phase = 2 * np.pi * np.cumsum(f0) / cfg.sample_rate
        y = sum(np.sin(k * phase) * rng.uniform(0.2, 1) / k for k in range(1, 9))
        env = np.exp(-0.5 * ((t - rng.uniform(0.3, 0.7)) / rng.uniform(0.1, 0.25)) ** 2)
        y = y * env + 0.003 * rng.standard_normal(s)
        out.append(0.8 * y / np.abs(y).max())
    return torch.tensor(np.stack(out), dtype=torch.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--n-iter", type=int, default=32)
    ap.add_argument("--librosa-clips", type=int, default=16, help="baseline is slow: time a subset")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg, inv = MelsConfig(), InversionConfig(n_iter=args.n_iter)
    transform = SpectrogramTransform(cfg)
    with torch.inference_mode():
        audio = harmonic_clips(args.clips, cfg)
        log_mel = transform.log_magnitude(audio)  # (N, M, T)
        stats = fit_stats(log_mel, cfg)
        x = normalise(log_mel, stats)[:, None]  # (N, 1, M, T)
        target = (denormalise(x[:, 0], stats).exp() - EPS).clamp_min(0)  # what both must match

        def sc(y: torch.Tensor) -> float:
            return spectral_convergence(target[: len(y)], transform.features(transform.magnitude(y)),
                                        match_gain=True)

        spectrogram_to_audio(x[:4], stats, cfg, inv)  # warm up
        k = min(args.librosa_clips, args.clips)
        # librosa wants T + 1 frames for hop * T samples: repeat the last frame.
        mel_np = torch.cat([target[:k], target[:k, :, -1:]], dim=2).numpy()
        t_ours = t_ref = float("inf")
        for _ in range(args.repeats):  # interleaved, best of N: the machine is shared
            t0 = time.perf_counter()
            ours = spectrogram_to_audio(x, stats, cfg, inv)
            t_ours = min(t_ours, time.perf_counter() - t0)
            t0 = time.perf_counter()
            ref = [librosa.feature.inverse.mel_to_audio(
                       m, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, power=1.0,
                       n_iter=args.n_iter, length=n_samples(cfg),  # momentum: its default 0.99
                       fmin=cfg.fmin, fmax=cfg.fmax)
                   for m in tqdm(mel_np, desc="librosa", leave=False)]
            t_ref = min(t_ref, time.perf_counter() - t0)
        ref = torch.tensor(np.stack(ref), dtype=torch.float32)

        rate_ours, rate_ref = args.clips / t_ours, k / t_ref
        print(f"cpu preset {cfg.n_mels}x{cfg.n_frames}, n_iter {args.n_iter}, "
              f"torch threads {torch.get_num_threads()}")
        print(f"project spectrogram_to_audio (batch {args.clips}): {rate_ours:7.1f} clips/s, "
              f"spectral convergence {sc(ours):.4f}")
        print(f"librosa mel_to_audio per clip ({k} clips):      {rate_ref:7.1f} clips/s, "
              f"spectral convergence {sc(ref):.4f}")
        print(f"speed-up: {rate_ours / rate_ref:.1f}x (target >= 10x)")

        # mel -> linear at equal cost: NNLS vs pinv + the NNLS time spent on more GL iterations.
        t_nnls = per_iter = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            lin = mel_to_linear(target, cfg, method="nnls")
            t_nnls = min(t_nnls, time.perf_counter() - t0)
            t0 = time.perf_counter()
            y_nnls = griffin_lim(lin, cfg.n_fft, cfg.hop_length, args.n_iter, inv.momentum)
            per_iter = min(per_iter, (time.perf_counter() - t0) / args.n_iter)
        extra = int(np.ceil(t_nnls / per_iter))
        y_pinv = griffin_lim(mel_to_linear(target, cfg, method="pinv"), cfg.n_fft, cfg.hop_length,
                             args.n_iter + extra, inv.momentum)
        print(f"mel->linear: nnls ({t_nnls * 1e3:.0f} ms) + {args.n_iter} GL iters: SC {sc(y_nnls):.4f}; "
              f"pinv + {args.n_iter + extra} GL iters (same time): SC {sc(y_pinv):.4f}")


if __name__ == "__main__":
    main()
