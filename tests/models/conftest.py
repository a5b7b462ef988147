"""Fixtures shared by the model tests."""

import numpy as np
import pytest

from ganaudio.data.windows import NoteStats

WINDOW = 16  # notes per window in these tests (each test module's L)


@pytest.fixture
def notes_dir(tmp_path):
    """A processed-notes folder (stats.json + windows_train.npz) of random but valid raw notes.

    About 30 % of steps are 0 (chord notes), as in real windows, so both step modes occur.
    """
    rng = np.random.default_rng(0)
    n = 6
    step = np.where(rng.random((n, WINDOW)) < 0.3, 0.0, rng.exponential(0.2, (n, WINDOW)))
    raw = np.stack([rng.integers(30, 90, (n, WINDOW)), step, rng.exponential(0.4, (n, WINDOW)) + 0.02,
                    rng.integers(20, 110, (n, WINDOW))], -1).astype(np.float32)
    NoteStats.fit(raw).to_json(tmp_path / "stats.json")
    np.savez(tmp_path / "windows_train.npz", windows=raw, piece_ids=np.arange(n))
    return tmp_path
