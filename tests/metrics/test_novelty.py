import numpy as np
import pytest

from ganaudio.metrics import novelty
from ganaudio.metrics.novelty import NoveltyIndex, VerbatimIndex


def random_windows(n, length, seed, pitches=(48, 84)):
    """Chromatic random notes: verbatim runs longer than a few notes happen only when planted."""
    rng = np.random.default_rng(seed)
    pitch = rng.integers(*pitches, (n, length))
    step = np.where(rng.random((n, length)) < 0.3, 0.0, rng.uniform(0.08, 0.5, (n, length)))
    return np.stack([pitch, step, np.full((n, length), 0.3), np.full((n, length), 64)], -1).astype(np.float32)


@pytest.fixture
def train():
    return random_windows(12, 48, seed=0)


def brute_force_longest(train, notes, invariant):
    """Longest common run of tokens by checking every substring: the definition, slowly."""
    seen = set()
    for row in novelty.tokens(train, invariant):
        for i in range(len(row)):
            for j in range(i + 1, len(row) + 1):
                seen.add(tuple(row[i:j]))
    best = []
    for row in novelty.tokens(notes, invariant):
        best.append(max((j - i for i in range(len(row)) for j in range(i + 1, len(row) + 1)
                         if tuple(row[i:j]) in seen), default=0) + 1)
    return np.array(best)


def test_planted_20_note_copy_is_found_exactly(train):
    generated = random_windows(6, 48, seed=1)
    generated[2, 10:30] = train[5, 7:27]  # 20 consecutive training notes, verbatim
    for invariant in (True, False):
        runs = VerbatimIndex(train, transpose_invariant=invariant).longest_run(generated)
        np.testing.assert_array_equal(runs, brute_force_longest(train, generated, invariant))
        assert runs[2] >= 20
        assert np.delete(runs, 2).max() < 8


def test_transposed_copy_counts_as_a_copy_only_for_the_invariant_test(train):
    generated = random_windows(4, 48, seed=2)
    generated[1, 5:25] = train[3, 20:40]
    generated[1, 5:25, 0] += 5  # the same 20 notes a fourth higher
    assert VerbatimIndex(train, transpose_invariant=True).longest_run(generated)[1] >= 20
    assert VerbatimIndex(train, transpose_invariant=False).longest_run(generated)[1] < 8


def test_rhythm_counts_only_as_chord_or_new_onset(train):
    copy = train[:2].copy()
    copy[..., 1] = np.where(copy[..., 1] > 0, copy[..., 1] * 1.3, 0.0)  # rubato keeps the copy a copy
    assert (VerbatimIndex(train).longest_run(copy) == 48).all()
    flipped = train[:2].copy()
    flipped[:, ::4, 1] = np.where(flipped[:, ::4, 1] > 0, 0.0, 0.3)  # every 4th note: chord <-> new onset
    assert VerbatimIndex(train).longest_run(flipped).max() < 16


def test_measure_flags_copies_and_reports_the_yardsticks(train):
    index = NoveltyIndex(train, copy_run=16)
    copies = index.measure(train[:6])
    assert copies["copy_share"] == 1.0 and copies["copy_share_absolute"] == 1.0
    assert copies["longest_run_median"] == 48 and copies["nearest_train_median"] == 0.0
    fresh = index.measure(random_windows(6, 48, seed=3))
    assert fresh["copy_share"] == 0.0 and fresh["longest_run_max"] < 16
    assert fresh["nearest_train_median"] > 0.1


def test_runs_do_not_cross_training_windows():
    train = random_windows(2, 20, seed=4)
    joined = np.concatenate([train[0, 10:], train[1, :10]])[None]  # end of one window + start of the next
    assert VerbatimIndex(train).longest_run(joined)[0] == 10
