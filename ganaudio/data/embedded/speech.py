"""mini-SC09: spoken digits from eSpeak NG, laid out and named like the real SC09.

The real SC09 (Speech Commands' zero..nine, 1 s at 16 kHz) is a 2 GB download; this builds a
look-alike from a seed in well under two minutes, so the whole SpectoGAN pipeline runs offline.
A "speaker" is one eSpeak voice setting (English voice, variant, base pitch, pitch range, rate);
each says several digits, some twice, and speakers never cross splits, as in SC09.

Two things make eSpeak NG output depend on more than the request, and both are handled here:
- it seeds its own RNG (breath noise of breathy variants) from the clock: every clip passes
  its own seed to `ESpeak.synthesize`;
- it keeps synthesis state between calls (pitch-flutter phase, glottal cycle counter, AGC),
  so the same request sounds slightly different depending on what the process said before:
  every fixed shard of speakers runs in a fresh process.
So the bytes are a function of the seed alone, whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from tqdm.auto import tqdm

from ganaudio.config import EmbeddedSC09Config
from ganaudio.data.embedded.espeak import ESpeak
from ganaudio.utils.io import atomic_dir

DIGITS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
SPLITS = ("train", "valid", "test")
SPLIT_SHARES = (0.8, 0.1)  # train, valid; test gets the rest
SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # exactly 1 s, as in SC09
SHARD_CLIPS = 320  # clips per worker process; fixed so the output never depends on `workers`
MIN_CLIPS = 30

# Variants that do not sound like a person (robots, whispers, effects) or whose name has a space.
EXCLUDED_VARIANTS = {"Demonic", "UniRobot", "anikaRobot", "Tweaky", "croak", "whisper", "whisperf",
                     "Mr serious", "robosoft", "robosoft2", "robosoft3", "robosoft4", "robosoft5",
                     "robosoft6", "robosoft7", "robosoft8"}
EXCLUDED_VOICES = {"en-Shaw"}  # reads Shavian script, not English spelling


@dataclass
class Speaker:
    speaker: str  # 8 hex chars, stable for a seed
    split: str
    voice: str
    variant: str  # "" for the voice's own default
    pitch: int
    range: int
    rate: int
    digits: tuple[int, ...]  # what this speaker says, in order


def build_mini_sc09(out_dir: Path, cfg: EmbeddedSC09Config, workers: int = 2,
                    progress: bool = True) -> dict[str, int]:
    """Write `out_dir/{train,valid,test}/<Digit>_<speaker>_nohash_<n>.wav` and speakers.csv.

    Builds in a temp folder beside `out_dir` and renames it into place, so a crash never
    leaves a half-built data set. Returns the clip count per split.
    """
    out_dir = Path(out_dir)
    if cfg.clips < MIN_CLIPS:
        raise ValueError(f"params.yaml fetch_sc09.embedded.clips is {cfg.clips}; use at least "
                         f"{MIN_CLIPS} so every split gets its own speakers")
    espeak = ESpeak.get()
    voices = [v.split("/")[-1] for v in espeak.list_voices("en")]
    voices = [v for v in voices if v not in EXCLUDED_VOICES]
    variants = [v for v in espeak.list_variants() if v not in EXCLUDED_VARIANTS]
    speakers = plan_speakers(cfg.clips, cfg.seed, voices, variants)

    with atomic_dir(out_dir) as tmp:
        for split in SPLITS:
            (tmp / split).mkdir(parents=True)
        jobs = [(str(tmp), shard, cfg.seed, cfg.noise_db) for shard in _shards(speakers)]
        # spawn, one task per process: see the module docstring
        ctx = mp.get_context("spawn")
        with ctx.Pool(max(1, min(workers, len(jobs))), maxtasksperchild=1) as pool, \
                tqdm(total=cfg.clips, desc="mini-SC09", unit="clip", disable=not progress) as bar:
            for n in pool.imap_unordered(_build_shard, jobs):
                bar.update(n)
        import pandas as pd  # here, not at the top: each spawned worker re-imports this module

        table = pd.DataFrame([{k: v for k, v in asdict(s).items() if k != "digits"} | {"clips": len(s.digits)}
                              for s in speakers])
        table.to_csv(tmp / "speakers.csv", index=False)
    counts = {split: 0 for split in SPLITS}
    for s in speakers:
        counts[s.split] += len(s.digits)
    return counts


def plan_speakers(clips: int, seed: int, voices: list[str], variants: list[str]) -> list[Speaker]:
    """Who says what: speakers with 3..15 clips each, digits drawn as a balanced stream.

    Digits come from back-to-back permutations of 0..9, so every digit is (almost) equally
    common, a speaker whose share spans two permutations says some digit twice, and any run of
    19+ clips holds every digit (train always has all ten).
    """
    rng = np.random.default_rng([seed, 0x5C09])
    stream = np.concatenate([rng.permutation(10) for _ in range(clips // 10 + 1)])[:clips]
    sizes, most = [], min(15, clips // 3)  # at least three speakers, one per split
    while sum(sizes) < clips:
        sizes.append(int(rng.integers(3, most + 1)))
    sizes[-1] -= sum(sizes) - clips
    if sizes[-1] < 1:
        sizes.pop()
    splits = _assign_splits(sizes, clips)

    speakers, start, seen = [], 0, set()
    for k, (size, split) in enumerate(zip(sizes, splits)):
        sid = _speaker_id(seed, k, seen)
        variant = rng.choice(variants + [""])  # "" = the voice's own sound
        speakers.append(Speaker(
            speaker=sid, split=split, voice=str(rng.choice(voices)), variant=str(variant),
            pitch=int(rng.integers(25, 76)), range=int(rng.integers(30, 91)),
            rate=int(rng.integers(130, 211)),
            digits=tuple(int(d) for d in stream[start:start + size])))
        start += size
    return speakers


def _assign_splits(sizes: list[int], clips: int) -> list[str]:
    """Consecutive speakers to train until 80% of clips, then valid to 90%, then test;
    at least one speaker in each."""
    ends = np.cumsum(sizes)
    n = len(sizes)
    i_train = int(np.searchsorted(ends, SPLIT_SHARES[0] * clips)) + 1  # speakers in train
    i_train = min(max(i_train, 1), n - 2)
    i_valid = int(np.searchsorted(ends, sum(SPLIT_SHARES) * clips)) + 1
    i_valid = min(max(i_valid, i_train + 1), n - 1)
    return ["train"] * i_train + ["valid"] * (i_valid - i_train) + ["test"] * (n - i_valid)


def _speaker_id(seed: int, k: int, seen: set[str]) -> str:
    salt = 0
    while True:
        sid = hashlib.blake2s(f"mini-sc09/{seed}/{k}/{salt}".encode(), digest_size=4).hexdigest()
        if sid not in seen:
            seen.add(sid)
            return sid
        salt += 1


def _shards(speakers: list[Speaker]) -> list[list[tuple[int, Speaker]]]:
    shards, cur, n = [], [], 0
    for k, s in enumerate(speakers):
        cur.append((k, s))
        n += len(s.digits)
        if n >= SHARD_CLIPS:
            shards.append(cur)
            cur, n = [], 0
    if cur:
        shards.append(cur)
    return shards


def _build_shard(job: tuple[str, list[tuple[int, Speaker]], int, float]) -> int:
    """Worker: synthesise and write every clip of a shard of speakers; returns the clip count."""
    out_dir, shard, seed, noise_db = job
    espeak = ESpeak.get()
    n = 0
    for k, s in shard:
        said = [0] * 10
        for j, digit in enumerate(s.digits):
            rng = np.random.default_rng([seed, k, j])
            clip = make_clip(espeak, DIGITS[digit].lower(), s, rng, noise_db)  # (16000,) int16
            name = f"{DIGITS[digit]}_{s.speaker}_nohash_{said[digit]}.wav"
            said[digit] += 1
            sf.write(os.path.join(out_dir, s.split, name), clip, SAMPLE_RATE, subtype="PCM_16")
            n += 1
    return n


def make_clip(espeak: ESpeak, word: str, s: Speaker, rng: np.random.Generator,
              noise_db: float) -> np.ndarray:
    """One SC09-like clip (16000,) int16: the word, jittered around the speaker's voice,
    at a random place in 1 s, random level, light coloured noise."""
    raw = espeak.synthesize(word, voice=s.voice, variant=s.variant or None,
                            pitch=int(np.clip(s.pitch + rng.integers(-4, 5), 0, 100)),
                            rate=int(s.rate + rng.integers(-10, 11)),
                            range_=int(np.clip(s.range + rng.integers(-5, 6), 0, 100)),
                            seed=int(rng.integers(2**31)))
    y = soxr.resample(raw.astype(np.float32) / 32768.0, espeak.sample_rate, SAMPLE_RATE)  # (T,)
    y = trim_silence(y)
    if len(y) > CLIP_SAMPLES:  # rare: a slow voice saying "seven"
        y = y[:CLIP_SAMPLES]
    y = _fade(y, int(0.005 * SAMPLE_RATE))
    peak = np.abs(y).max()
    if peak > 0:
        y = y / peak * 10 ** (rng.uniform(-12.0, 0.0) / 20)
    out = np.zeros(CLIP_SAMPLES, np.float32)
    offset = int(rng.integers(0, CLIP_SAMPLES - len(y) + 1))
    out[offset:offset + len(y)] = y
    out += coloured_noise(CLIP_SAMPLES, rng.uniform(0.0, 2.0), rng) * 10 ** ((noise_db + rng.uniform(-5, 5)) / 20)
    return np.clip(np.round(out * 32767), -32768, 32767).astype(np.int16)


def trim_silence(y: np.ndarray, top_db: float = 40.0, frame: int = 512, hop: int = 128) -> np.ndarray:
    """Cut leading and trailing frames quieter than `top_db` below the loudest frame.

    The same rule as librosa.effects.trim; done here because importing librosa costs ~3 s in
    each fresh worker process, more than synthesising a whole shard.
    """
    if len(y) < frame:
        return y
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop]  # (F, frame)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))  # (F,)
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-top_db / 20))
    if len(loud) == 0:
        return y[:0]
    return y[loud[0] * hop: min(len(y), loud[-1] * hop + frame)]


def coloured_noise(n: int, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise (n,) with power spectrum ~ 1/f**beta: 0 white, 1 pink, 2 brown."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0  # no DC blow-up
    x = np.fft.irfft(spec * f ** (-beta / 2), n)
    x -= x.mean()
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)


def _fade(y: np.ndarray, n: int) -> np.ndarray:
    n = min(n, len(y) // 2)
    if n == 0:
        return y
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    y = y.copy()
    y[:n] *= ramp
    y[-n:] *= ramp[::-1]
    return y

