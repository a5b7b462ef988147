import numpy as np
import pandas as pd
import pytest

from ganaudio.metrics import baselines, mgeval
from tests.metrics.conftest import structured_windows


def test_features_match_hand_computed_values():
    # C4 E4 (a chord) G4 C5, then C4 again; durations 0.1 s, 0.1, 0.5, 1.0, 1.0 s.
    notes = np.array([[[60, 0.3, 0.1, 80], [64, 0.0, 0.1, 80], [67, 0.5, 0.5, 80],
                       [72, 0.5, 1.0, 80], [60, 0.25, 1.0, 80]]], dtype=np.float32)
    f = mgeval.window_features(notes)
    assert f["used_pitches"][0, 0] == 4 and f["pitch_range"][0, 0] == 12
    assert f["mean_abs_interval"][0, 0] == pytest.approx((4 + 3 + 5 + 12) / 4)
    np.testing.assert_allclose(f["pitch_class_hist"][0].reshape(12)[[0, 4, 7]], [3 / 5, 1 / 5, 1 / 5])  # C4, C5 and C4 again
    pctm = f["pitch_class_transition"][0].reshape(12, 12)
    assert pctm[0, 4] == pctm[4, 7] == pctm[7, 0] == 1 / 4 and pctm[0, 0] == 1 / 4  # C->C across the octave
    assert f["mean_ioi"][0, 0] == pytest.approx((0.3 + 0 + 0.5 + 0.5 + 0.25) / 5)  # every step, the first included
    nltm = f["note_length_transition"][0].reshape(13, 13)
    assert nltm.sum() == pytest.approx(1.0) and nltm.max() == pytest.approx(1 / 4)
    # onsets after the first: chord, new, new, new -> one 4-step pattern 0111
    np.testing.assert_array_equal(np.flatnonzero(f["rhythm_pattern"][0]), [0b0111])
    # lags beyond the window are 0; lag 1 of 60 64 67 72 60 (mean 64.6) by hand:
    x = np.array([60, 64, 67, 72, 60]) - 64.6
    assert f["pitch_autocorrelation"][0, 0] == pytest.approx((x[:-1] * x[1:]).mean() / (x * x).mean())
    assert f["pitch_autocorrelation"].shape == (1, mgeval.AUTOCORRELATION_LAGS)
    assert np.all(f["pitch_autocorrelation"][0, 4:] == 0)


def test_shuffling_keeps_histograms_and_breaks_order_features():
    windows = structured_windows(n=4)
    shuffled = baselines.shuffled_train(windows, 4, np.random.default_rng(0))
    # shuffled_train draws windows in random order: match each shuffled window to its source by sorted notes
    src = [next(i for i, w in enumerate(windows) if np.array_equal(np.sort(w[:, 0]), np.sort(s[:, 0]))) for s in shuffled]
    a, b = mgeval.window_features(windows[src]), mgeval.window_features(shuffled)
    for name in ("used_pitches", "pitch_range", "pitch_class_hist", "note_length_hist"):
        np.testing.assert_allclose(a[name], b[name], err_msg=name)
    for name in ("pitch_class_transition", "pitch_autocorrelation", "rhythm_pattern"):
        assert np.abs(a[name] - b[name]).sum() > 0.1, name


def test_order_features_are_exactly_those_a_shuffle_changes(tmp_path):
    # The side of every feature is decided by shuffling real windows (the notes stage's own output
    # format) and pinned here: a feature that moves under a shuffle belongs to the order score.
    from ganaudio.data.embedded.piano import COMPOSERS, compose_piece
    from ganaudio.data.notes import midi_to_notes
    from ganaudio.data.windows import make_windows

    frames = []
    for i, comp in enumerate(COMPOSERS):  # one piece per composer: every accompaniment pattern
        path = tmp_path / f"{i}.midi"
        compose_piece(np.random.default_rng(i), comp, number=1)["midi"].write(str(path))
        frames.append(midi_to_notes(path).assign(piece_id=i))
    windows, _ = make_windows(pd.concat(frames), seq_len=64, stride=256)
    rng = np.random.default_rng(0)
    perm = rng.permuted(np.broadcast_to(np.arange(windows.shape[1]), windows.shape[:2]), axis=1)
    shuffled = np.take_along_axis(windows, perm[..., None], axis=1)
    a, b = mgeval.window_features(windows), mgeval.window_features(shuffled)
    changed = {name for name in mgeval.FEATURES if not np.allclose(a[name], b[name], atol=1e-9)}
    assert changed == set(mgeval.ORDER_FEATURES)
    assert mgeval.ORDER_FEATURES == ("mean_abs_interval", "pitch_class_transition", "note_length_transition",
                                     "pitch_autocorrelation", "rhythm_pattern")
    assert set(mgeval.FEATURES) - changed == {"used_pitches", "pitch_range", "pitch_class_hist", "mean_ioi",
                                              "ioi_hist", "note_length_hist"}


def test_compare_ranks_a_fresh_draw_above_independent_notes():
    target = mgeval.TargetSet(structured_windows(n=30, seed=1))
    same_kind = target.compare(structured_windows(n=30, seed=2))
    iid = target.compare(baselines.iid_notes(structured_windows(n=30, seed=3), 30, np.random.default_rng(0)))
    assert set(same_kind) == set(mgeval.FEATURES)
    mean = {k: np.mean([v[f]["overlap_area"] for f in mgeval.FEATURES]) for k, v in (("same", same_kind), ("iid", iid))}
    assert mean["same"] > mean["iid"] + 0.15
    for name in ("pitch_class_hist", "pitch_autocorrelation", "rhythm_pattern"):
        assert same_kind[name]["overlap_area"] > iid[name]["overlap_area"], name
        assert same_kind[name]["kl"] < iid[name]["kl"], name


def test_collapsed_set_shows_in_intra_overlap():
    windows = structured_windows(n=30, seed=1)
    target = mgeval.TargetSet(windows)
    collapsed = target.compare(np.repeat(windows[:1], 30, axis=0))
    fresh = target.compare(structured_windows(n=30, seed=2))
    assert collapsed["pitch_class_hist"]["intra_overlap"] < 0.05 < fresh["pitch_class_hist"]["intra_overlap"]


def test_target_needs_two_windows():
    with pytest.raises(ValueError, match="at least 2"):
        mgeval.TargetSet(structured_windows(n=1))
