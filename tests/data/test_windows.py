import numpy as np
import pandas as pd
import pytest
import torch

from ganaudio.data.windows import FEATURES, MIN_DURATION, NoteStats, make_windows


def note_table(lengths, seed=0) -> pd.DataFrame:
    """Pieces of the given lengths; pitch encodes (piece, index) so windows can be traced back."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid, n in enumerate(lengths):
        step = rng.exponential(0.15, n)
        step[0] = 0.0
        rows.append(pd.DataFrame({
            "piece_id": pid, "pitch": 21 + pid * 20 + np.arange(n) % 20, "step": step,
            "start": np.cumsum(step), "duration": rng.uniform(0.05, 2.0, n),
            "velocity": rng.integers(20, 110, n)}))
    return pd.concat(rows, ignore_index=True)


def test_window_shapes_and_counts():
    w, ids = make_windows(note_table([10, 3, 7]), seq_len=4, stride=2)
    assert w.shape == (6, 4, len(FEATURES)) and w.dtype == np.float32
    assert ids.tolist() == [0, 0, 0, 0, 2, 2]  # 0,2,4,6 in piece 0; none in piece 1; 0,2 in piece 2


def test_windows_never_cross_pieces_and_hold_consecutive_notes():
    table = note_table([50, 33, 8, 64], seed=1)
    # shuffled rows: make_windows must sort by piece and onset itself
    w, ids = make_windows(table.sample(frac=1, random_state=0), seq_len=16, stride=5)
    piece_of_pitch = (w[..., 0] - 21) // 20
    assert (piece_of_pitch == ids[:, None]).all()
    for win, pid in zip(w, ids):
        piece = table[table.piece_id == pid][list(FEATURES)].to_numpy(np.float32)
        first = int(np.flatnonzero((piece == win[0]).all(1))[0])
        np.testing.assert_array_equal(win, piece[first:first + 16])


def test_too_short_gives_no_windows():
    w, ids = make_windows(note_table([3, 2]), seq_len=4, stride=1)
    assert w.shape == (0, 4, 4) and ids.shape == (0,)


def fitted():
    w, _ = make_windows(note_table([200, 150, 300], seed=2), seq_len=32, stride=8)
    return w, NoteStats.fit(w)


def test_fit_standardises_in_log_space():
    w, stats = fitted()
    x = stats.normalise(w).reshape(-1, 4)
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(x.std(0), 1, atol=1e-3)
    assert stats.mean[1] == pytest.approx(np.log(w[..., 1] + 1e-3).mean(), rel=1e-4)
    assert stats.median_step == pytest.approx(float(np.median(w[..., 1])))
    assert stats.median_duration == pytest.approx(float(np.median(w[..., 2])))


def test_round_trip_numpy_and_torch():
    w, stats = fitted()
    back = stats.denormalise(stats.normalise(w))
    np.testing.assert_allclose(back, w, rtol=1e-4, atol=1e-5)
    t = torch.from_numpy(w)
    back_t = stats.denormalise(stats.normalise(t))
    assert isinstance(back_t, torch.Tensor) and back_t.dtype == torch.float32
    torch.testing.assert_close(back_t, t, rtol=1e-4, atol=1e-5)


def test_denormalised_noise_is_musically_valid():
    _, stats = fitted()
    for noise in (np.random.default_rng(0).normal(0, 10, (64, 32, 4)).astype(np.float32),
                  torch.randn(64, 32, 4) * 10):
        y = stats.denormalise(noise)
        y = y.numpy() if isinstance(y, torch.Tensor) else y
        assert np.isfinite(y).all()
        pitch, step, dur, vel = np.moveaxis(y, -1, 0)
        assert (pitch == np.round(pitch)).all() and stats.pitch_min <= pitch.min() and pitch.max() <= stats.pitch_max
        assert step.min() >= 0 and dur.min() >= MIN_DURATION
        assert (vel == np.round(vel)).all() and vel.min() >= 1 and vel.max() <= 127


def test_stats_json_round_trip(tmp_path):
    _, stats = fitted()
    stats.to_json(tmp_path / "stats.json")
    assert NoteStats.from_json(tmp_path / "stats.json") == stats
    (tmp_path / "bad.json").write_text('{"foo": 1}')
    with pytest.raises(ValueError, match="bad.json"):
        NoteStats.from_json(tmp_path / "bad.json")


def test_fit_on_nothing_is_a_clear_error():
    with pytest.raises(ValueError, match="seq_len"):
        NoteStats.fit(np.zeros((0, 8, 4), np.float32))


def test_unclipped_pitch_stays_where_the_generator_put_it_within_midi():
    _, stats = fitted()
    raw = np.zeros((1, 4, 4))
    raw[0, :, 0] = [stats.pitch_min - 5, stats.pitch_max + 3, -40, 300]
    raw[0, :, 1:] = [0.1, 0.3, 64]
    x = stats.normalise(raw)
    np.testing.assert_allclose(stats.denormalise(x)[0, :, 0], [stats.pitch_min, stats.pitch_max,
                                                                stats.pitch_min, stats.pitch_max])
    np.testing.assert_allclose(stats.denormalise(x, clip_pitch=False)[0, :, 0],
                               [stats.pitch_min - 5, stats.pitch_max + 3, 0, 127])
