"""Tiny note windows with the structure the PianoGAN evaluation measures (shared by the metric tests)."""

import numpy as np

MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


def structured_windows(n: int = 24, length: int = 64, seed: int = 0) -> np.ndarray:
    """(n, length, 4) windows that hold together: one key and one register per window, a scale-bound
    melody alternating with a repeating bass figure, a steady per-window tempo with chord pairs.
    Independent notes lose all of that, shuffled notes lose the order, and copies keep everything."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, length, 4), np.float32)
    for w in range(n):
        key, register, beat = rng.integers(0, 12), rng.integers(5, 7), rng.uniform(0.15, 0.4)
        degree = np.cumsum(rng.choice([-3, -2, -1, 1, 2, 3], length // 2)) % 7  # moves within the scale
        melody = 12 * register + key + MAJOR[degree]
        bass = 12 * 3 + key + MAJOR[np.tile([0, 4, 2, 4], length // 8 + 1)[: length // 2]]
        out[w, 0::2, 0], out[w, 1::2, 0] = melody, bass
        out[w, 0::2, 1], out[w, 1::2, 1] = beat, 0.0  # each bass note sounds with its melody note
        out[w, :, 2] = np.where(np.arange(length) % 2, 2 * beat, beat)
        out[w, :, 3] = rng.integers(50, 90)
    return out
