"""Clips/s of the batched log-mel path (threaded load + SpectrogramTransform) vs a librosa loop.

Both sides compute the same features (cpu preset: n_fft 1024, hop 256, 64 mels, 64 frames, log
magnitude + 1e-6) from the same synthetic SC09-like WAVs (1 s chirps + noise, 16 kHz int16), so
the ratio is the speed-up of the project's path at identical output. Target: >= 8x.

    python benchmarks/bench_mels.py [--clips 300] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from ganaudio.config import MelsConfig
from ganaudio.data.mels import SpectrogramTransform, load_clips, n_samples


def write_wavs(folder: Path, n: int, sr: int = 16000) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        f0, f1 = rng.uniform(80, 400), rng.uniform(800, 6000)
        y = librosa.chirp(fmin=f0, fmax=f1, sr=sr, duration=1.0) * rng.uniform(0.1, 0.8)
        y = y + 0.01 * rng.standard_normal(len(y))
        path = folder / f"Five_{i:08x}_nohash_0.wav"
        sf.write(path, y.astype(np.float32), sr, subtype="PCM_16")
        paths.append(path)
    return paths


def librosa_loop(paths: list[Path], cfg: MelsConfig) -> np.ndarray:
    want = n_samples(cfg)
    out = []
    for p in tqdm(paths, desc="librosa", leave=False):
        y, _ = librosa.load(p, sr=cfg.sample_rate, mono=True)
        y = librosa.util.fix_length(y, size=want)
        S = librosa.feature.melspectrogram(y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft,
                                           hop_length=cfg.hop_length, n_mels=cfg.n_mels,
                                           fmin=cfg.fmin, fmax=cfg.fmax, power=1.0)
        out.append(np.log(S[:, : cfg.n_frames] + 1e-6))
    return np.stack(out)  # (N, n_mels, n_frames)


def project_path(paths: list[Path], cfg: MelsConfig, workers: int) -> np.ndarray:
    transform = SpectrogramTransform(cfg)
    audio, _, _ = load_clips(paths, cfg, workers)
    with torch.inference_mode():
        return torch.cat([transform.log_magnitude(torch.from_numpy(audio[i: i + cfg.batch_size]))
                          for i in range(0, len(audio), cfg.batch_size)]).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg = MelsConfig()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_wavs(Path(tmp), args.clips)
        project_path(paths[:8], cfg, args.workers), librosa_loop(paths[:8], cfg)  # warm caches
        best = {"project": float("inf"), "librosa": float("inf")}
        for _ in range(args.repeats):  # best of N: the machine is shared
            t0 = time.perf_counter()
            ours = project_path(paths, cfg, args.workers)
            best["project"] = min(best["project"], time.perf_counter() - t0)
            t0 = time.perf_counter()
            ref = librosa_loop(paths, cfg)
            best["librosa"] = min(best["librosa"], time.perf_counter() - t0)
    diff = float(np.abs(ours - ref).max())
    rate = {k: args.clips / v for k, v in best.items()}
    print(f"clips: {args.clips}, torch threads: {torch.get_num_threads()}, load workers: {args.workers}")
    print(f"project (threaded load + batched torch): {rate['project']:8.1f} clips/s")
    print(f"librosa per-file loop:                   {rate['librosa']:8.1f} clips/s")
    print(f"speed-up: {rate['project'] / rate['librosa']:.1f}x (target >= 8x)")
    print(f"max |log-mel difference| over all clips: {diff:.2e} (must be < 1e-3)")
    assert diff < 1e-3, "the batched path disagrees with librosa"


if __name__ == "__main__":
    main()
