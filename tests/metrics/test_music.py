import numpy as np
import pytest

from ganaudio.metrics import music

C_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


def make_notes(n=64, length=32, seed=0):
    """Plausible piano windows: C-major pitches, log-normal steps with some chords, velocities."""
    rng = np.random.default_rng(seed)
    octave = rng.integers(4, 7, size=(n, length))
    pitch = 12 * octave + C_MAJOR[rng.integers(0, 7, size=(n, length))]
    step = rng.lognormal(np.log(0.2), 0.6, size=(n, length))
    step[rng.random((n, length)) < 0.2] = 0.0  # chords
    duration = rng.lognormal(np.log(0.4), 0.5, size=(n, length))
    velocity = rng.integers(40, 100, size=(n, length))
    return np.stack([pitch, step, duration, velocity], axis=-1).astype(np.float32)


def test_features_match_hand_computed_values():
    # C4 and E4 together at 0 (1 s), G4 at 0.5 (0.25 s), C5 at 1.0 (0.5 s).
    notes = np.array([[[60, 0.3, 1.0, 80], [64, 0.0, 1.0, 80],
                       [67, 0.5, 0.25, 80], [72, 0.5, 0.5, 80]]], dtype=np.float32)
    f = music.note_features(notes)
    np.testing.assert_array_equal(f["pitch_class"][0], [2, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    assert f["pitch_range"][0] == 12
    assert f["mean_abs_interval"][0] == pytest.approx(4.0)
    # sounding at 0: C4, E4 (x2 notes); at 0.5: C4, E4, G4; at 1.0: only C5 (C4/E4 end there)
    assert f["polyphony"][0] == pytest.approx((2 + 2 + 3 + 1) / 4)
    assert f["note_density"][0] == pytest.approx(4 / 1.5)
    assert f["in_key_ratio"][0] == 1.0
    assert f["step"][0].sum() == 4 and f["step"][0, 0] == 1  # the chord step lands in bin 0


def test_in_key_ratio_picks_the_best_key():
    # A major scale (A B C# D E F# G#) plus one C natural: 7 of 8 notes fit A major.
    pitches = [69, 71, 73, 74, 76, 78, 80, 72]
    notes = np.array([[[p, 0.25, 0.2, 64] for p in pitches]], dtype=np.float32)
    assert music.note_features(notes)["in_key_ratio"][0] == pytest.approx(7 / 8)


def test_polyphony_is_per_row_with_many_rows():
    notes = make_notes(n=40, length=24, seed=3)
    fast = music.note_features(notes)["polyphony"]
    step, dur = notes[..., 1].astype(np.float64), notes[..., 2].astype(np.float64)
    onset = np.cumsum(step, axis=1) - step[:, :1]
    end = onset + dur
    # brute force: (N, L, L) sounding matrix
    sounding = (onset[:, None, :] <= onset[:, :, None]) & (end[:, None, :] > onset[:, :, None])
    np.testing.assert_allclose(fast, sounding.sum(-1).mean(-1))


def test_identical_sets_have_zero_distance():
    notes = make_notes()
    d = music.distances(notes, notes.copy())
    expected = {"pitch_class_kl", "pitch_class_overlap", "pitch_range", "mean_abs_interval",
                "step_hist", "duration_hist", "polyphony", "note_density", "in_key_ratio"}
    assert expected <= set(d)
    for name, value in d.items():
        assert abs(value) < 1e-9, (name, value)


def test_each_shift_moves_its_distances():
    ref = make_notes(seed=1)
    same = music.distances(make_notes(seed=2), ref)  # another draw: the noise floor

    up3 = ref.copy()
    up3[..., 0] += 3
    d = music.distances(up3, ref)
    assert d["pitch_class_kl"] > 0.5 and d["pitch_class_overlap"] > 0.2
    assert d["pitch_range"] < 1e-9 and d["mean_abs_interval"] < 1e-9  # transposition-invariant

    slow = ref.copy()
    slow[..., 1] *= 2
    d = music.distances(slow, ref)
    assert d["step_hist"] > 5 * same["step_hist"] and d["step_hist"] > 0.1
    assert d["note_density"] > 0.5

    short = ref.copy()
    short[..., 2] *= 0.5
    d = music.distances(short, ref)
    assert d["duration_hist"] > 5 * same["duration_hist"] and d["duration_hist"] > 0.1
    assert d["polyphony"] > 0.5

    wide = ref.copy()
    wide[..., 0] = 2 * (wide[..., 0] - 60) + 60
    d = music.distances(wide, ref)
    assert d["pitch_range"] > 0.5 and d["mean_abs_interval"] > 0.5

    chromatic = ref.copy()
    chromatic[..., 0] = np.random.default_rng(0).integers(48, 84, size=ref.shape[:2])
    assert music.distances(chromatic, ref)["in_key_ratio"] > 0.8
    assert music.distances(chromatic, ref)["in_key_ratio"] > 10 * same["in_key_ratio"]


def test_kde_distance_is_symmetric_bounded_and_survives_zero_variance():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 300), rng.normal(0.5, 1, 200)
    assert music.kde_overlap_distance(a, b) == pytest.approx(music.kde_overlap_distance(b, a))
    assert 0 < music.kde_overlap_distance(a, b) < 1
    assert music.kde_overlap_distance(a, a + 100) == pytest.approx(1.0)
    constant = np.full(50, 0.3)
    assert music.kde_overlap_distance(constant, constant) == 0.0
    assert 0.5 < music.kde_overlap_distance(constant, a) <= 1.0
    assert music.kde_overlap_distance(constant, constant + 1) == pytest.approx(1.0)


def test_collapsed_generator_is_finite_and_far():
    ref = make_notes()
    collapsed = np.repeat(ref[:1], len(ref), axis=0)
    d = music.distances(collapsed, ref)
    assert all(np.isfinite(v) for v in d.values())
    assert d["polyphony"] > 0.5 and d["note_density"] > 0.5


def test_spread_flags_mode_collapse():
    ref = make_notes(n=50)
    collapsed = np.repeat(ref[:1], len(ref), axis=0)
    s_ref, s_col = music.spread(ref), music.spread(collapsed)
    assert s_col["diversity"] == pytest.approx(0.0)
    assert s_ref["diversity"] > 0.2
    assert s_ref["step_std"] > 0 and s_ref["duration_std"] > 0
    # subsampling keeps the estimate close
    assert music.spread(ref, max_samples=30)["diversity"] == pytest.approx(s_ref["diversity"], rel=0.2)
    # log-seconds spread: a tempo change leaves it unchanged, a constant rhythm zeroes it
    fast = ref.copy()
    fast[..., 2] *= 0.5
    assert music.spread(fast)["duration_std"] == pytest.approx(s_ref["duration_std"], rel=1e-5)
    steady = ref.copy()
    steady[..., 1] = 0.25
    assert music.spread(steady)["step_std"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("shape", [(8, 4), (2, 8, 3), (0, 8, 4)])
def test_bad_shapes_say_what_to_pass(shape):
    with pytest.raises(ValueError, match=r"\(N>=1, L>=2, 4\)"):
        music.distances(np.zeros(shape), make_notes())


def test_nan_input_is_refused():
    bad = make_notes()
    bad[0, 0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        music.spread(bad)
