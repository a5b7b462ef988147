import numpy as np
import pytest

from ganaudio.metrics import baselines
from tests.metrics.conftest import structured_windows


@pytest.fixture
def train():
    return structured_windows(n=10, length=32, seed=0)


def rows_of(x):
    return {tuple(r) for r in np.asarray(x).reshape(-1, 4).tolist()}


def test_copy_train_returns_training_windows_verbatim(train):
    out = baselines.copy_train(train, 6, np.random.default_rng(0))
    assert out.shape == (6, 32, 4)
    assert all(any(np.array_equal(w, t) for t in train) for w in out)
    assert len({w.tobytes() for w in out}) == 6  # without replacement while there are enough
    assert baselines.copy_train(train, 25, np.random.default_rng(0)).shape == (25, 32, 4)  # more than M: with


def test_shuffled_train_permutes_notes_within_each_window(train):
    out = baselines.shuffled_train(train, 8, np.random.default_rng(1))
    for w in out:
        source = [t for t in train if sorted(map(tuple, t.tolist())) == sorted(map(tuple, w.tolist()))]
        assert source, "every shuffled window holds exactly one training window's notes"
        assert not np.array_equal(source[0], w), "and not in their order"


def test_iid_notes_draws_each_note_independently_from_training_notes(train):
    out = baselines.iid_notes(train, 200, np.random.default_rng(2))
    assert out.shape == (200, 32, 4)
    assert rows_of(out) <= rows_of(train)
    # a window mixes notes of many training windows: its notes are no longer in one key
    source_windows = {i for i, t in enumerate(train) for note in out[0] if note.tolist() in t.tolist()}
    assert len(source_windows) >= 5
    # independence: neighbouring notes' pitches do not correlate (training windows alternate registers)
    p = out[..., 0]
    assert abs(np.corrcoef(p[:, :-1].ravel(), p[:, 1:].ravel())[0, 1]) < 0.05
    assert np.corrcoef(train[..., 0][:, :-1].ravel(), train[..., 0][:, 1:].ravel())[0, 1] < -0.5


def test_make_is_seeded_and_names_the_choices(train):
    for name in baselines.BASELINES:
        np.testing.assert_array_equal(baselines.make(name, train, 5, 3), baselines.make(name, train, 5, 3))
        assert not np.array_equal(baselines.make(name, train, 5, 3), baselines.make(name, train, 5, 4))
    with pytest.raises(ValueError, match="iid_notes"):
        baselines.make("copy", train, 5, 0)
    with pytest.raises(ValueError, match="notes stage"):
        baselines.iid_notes(train[:0], 5, np.random.default_rng(0))
