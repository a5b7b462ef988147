import numpy as np
import pytest

from ganaudio.metrics import audio


def exact_gaussian_sample(mean, cov, n=400, seed=0):
    """Points whose sample mean and (ddof=1) covariance are exactly `mean` and `cov`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(mean)))
    x -= x.mean(axis=0)
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T  # whitened
    return x @ np.linalg.cholesky(cov).T + mean


# ---------------------------------------------------------------- inception score

def test_is_of_confident_balanced_predictions_is_the_class_count():
    c = 10
    probs = np.eye(c)[np.tile(np.arange(c), 20)]  # every class 20 times
    mean, std = audio.inception_score(probs, splits=1)
    assert mean == pytest.approx(c)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_is_does_not_depend_on_the_order_of_the_set():
    # A test split stored in class order (files sorted by name): unshuffled splits would each
    # hold one class and score ~1; the score must be that of the set, near the class count.
    c = 10
    sorted_probs = np.eye(c)[np.repeat(np.arange(c), 100)]
    mean, _ = audio.inception_score(sorted_probs, splits=10)
    assert mean > 0.9 * c
    shuffled = sorted_probs[np.random.default_rng(1).permutation(len(sorted_probs))]
    assert mean == pytest.approx(audio.inception_score(shuffled, splits=10)[0], rel=0.05)


def test_is_of_identical_predictions_is_one():
    probs = np.tile([0.7, 0.2, 0.1], (30, 1))
    assert audio.inception_score(probs, splits=3)[0] == pytest.approx(1.0)
    one_class = np.eye(4)[np.zeros(20, dtype=int)]  # confident but collapsed
    assert audio.inception_score(one_class, splits=2)[0] == pytest.approx(1.0)


def test_is_matches_hand_computed_two_class_value():
    # p(y|x) = [0.9, 0.1] and [0.1, 0.9]: marginal [0.5, 0.5]; KL = 0.9 ln 1.8 + 0.1 ln 0.2
    probs = np.array([[0.9, 0.1], [0.1, 0.9]])
    kl = 0.9 * np.log(1.8) + 0.1 * np.log(0.2)
    assert audio.inception_score(probs, splits=1) == (pytest.approx(np.exp(kl)), 0.0)


def test_is_refuses_logits():
    with pytest.raises(ValueError, match="softmax"):
        audio.inception_score(np.random.default_rng(0).normal(size=(20, 10)), splits=2)


# ---------------------------------------------------------------- FID

def test_fid_of_a_set_with_itself_is_zero():
    feats = np.random.default_rng(0).normal(size=(200, 8))
    assert audio.frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-6)


def test_fid_matches_the_closed_form_for_diagonal_gaussians():
    a = exact_gaussian_sample(np.array([0.0, 1.0]), np.diag([1.0, 4.0]), seed=0)
    b = exact_gaussian_sample(np.array([3.0, -3.0]), np.diag([4.0, 9.0]), seed=1)
    # |dmu|^2 = 9 + 16; trace term = sum (sqrt(s1) - sqrt(s2))^2 = (1-2)^2 + (2-3)^2
    assert audio.frechet_distance(a, b) == pytest.approx(25 + 2, rel=1e-6)


def test_fid_matches_the_closed_form_for_full_covariances():
    rng = np.random.default_rng(2)
    m = rng.normal(size=(3, 3))
    s1, s2 = m @ m.T + np.eye(3), np.diag([0.5, 2.0, 1.0])
    a = exact_gaussian_sample(np.zeros(3), s1, seed=3)
    b = exact_gaussian_sample(np.ones(3), s2, seed=4)
    root = np.linalg.cholesky(s1)  # S1^(1/2) S2 S1^(1/2) has the same trace of sqrt as S1 S2
    w, v = np.linalg.eigh(root.T @ s2 @ root)
    expected = 3 + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(w).sum()
    assert audio.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_fid_survives_fewer_samples_than_dimensions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(10, 32)), rng.normal(size=(10, 32)) + 1
    d = audio.frechet_distance(a, b)
    assert np.isfinite(d) and d > 20


def test_fid_of_near_singular_covariances_is_exact_and_silent():
    """Fewer samples than dimensions and a dead feature: scipy's sqrtm warned (LinAlgWarning) here."""
    import warnings

    from scipy import linalg

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(20, 64)), rng.normal(size=(30, 64)) * 2 + 0.5
    a[:, 0] = 1.0  # a constant feature: a zero row and column in the covariance
    mu1, s1 = audio.gaussian_stats(a)
    mu2, s2 = audio.gaussian_stats(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = audio.frechet_distance_from_stats(mu1, s1, mu2, s2)
    # The same trace from an independent route: the eigenvalues of S1 S2 (real, >= 0 in theory).
    eig = np.linalg.eigvals(s1 @ s2).real.clip(0)
    reference = (mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(eig).sum()
    assert d == pytest.approx(reference, rel=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = np.trace(linalg.sqrtm(s1 @ s2)).real  # what the eps-free reference FID code computes
    assert 2 * np.sqrt(eig).sum() == pytest.approx(2 * old, rel=1e-3)


def test_fid_rejects_mismatched_features():
    with pytest.raises(ValueError, match="same feature"):
        audio.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


# ---------------------------------------------------------------- NDB/k

def blobs(n, shift=0.0, seed=0, weights=None):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [6, 0], [0, 6], [6, 6], [3, 3]], dtype=float)
    which = rng.choice(len(centres), size=n, p=weights)
    return centres[which] + rng.normal(scale=0.7, size=(n, 2)) + shift


def test_ndb_of_a_set_against_itself_is_zero():
    train = blobs(600)
    assert audio.ndb_k(train, train, k=10) == (0, 0.0)


def test_ndb_of_a_held_out_real_set_is_low():
    n, frac = audio.ndb_k(blobs(1500, seed=0), blobs(1500, seed=1), k=10)
    assert frac <= 0.2


def test_ndb_is_high_for_shifted_or_collapsed_sets():
    train = blobs(1500)
    assert audio.ndb_k(train, blobs(1500, shift=2.0, seed=1), k=10)[1] >= 0.6
    collapsed = blobs(1500, seed=2, weights=[0.96, 0.01, 0.01, 0.01, 0.01])
    assert audio.ndb_k(train, collapsed, k=10)[1] >= 0.6


def test_ndb_is_deterministic_from_seed():
    train, gen = blobs(500), blobs(500, shift=0.5, seed=1)
    assert audio.ndb_k(train, gen, k=8, seed=3) == audio.ndb_k(train, gen, k=8, seed=3)


# ---------------------------------------------------------------- nearest neighbours

def test_nn_distances_on_hand_made_points():
    generated = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 5.0]])
    train = np.array([[0.0, 1.0], [10.0, 10.0], [3.0, 4.0]])
    d = audio.nn_distances(generated, train)
    # nearest other generated: 5, 1, 1; nearest train: 1, 0, 1
    assert d["d_self"] == pytest.approx(7 / 3)
    assert d["d_train"] == pytest.approx(2 / 3)


def test_nn_distances_see_duplicates_and_copies():
    train = np.random.default_rng(0).normal(size=(50, 4))
    copies = train[:20]
    assert audio.nn_distances(copies, train)["d_train"] == pytest.approx(0.0, abs=1e-7)
    repeated = np.repeat(train[:2], 10, axis=0)
    assert audio.nn_distances(repeated, train)["d_self"] == pytest.approx(0.0, abs=1e-7)
