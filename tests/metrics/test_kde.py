import numpy as np
import pytest
from scipy.stats import norm

from ganaudio.metrics.kde import overlap_and_kl


@pytest.mark.parametrize("d, sigma", [(1.0, 1.0), (0.5, 0.3), (3.0, 1.0)])
def test_two_single_points_give_the_two_gaussians_closed_form(d, sigma):
    # One sample point each: the KDEs are exactly N(0, s^2) and N(d, s^2), whose overlapped area
    # is 2·Phi(-d / 2s) and whose KL divergence is d^2 / 2s^2.
    oa, kl = overlap_and_kl([0.0], [d], bandwidth=sigma)
    assert oa == pytest.approx(2 * norm.cdf(-d / (2 * sigma)), abs=1e-4)
    assert kl == pytest.approx(d * d / (2 * sigma * sigma), rel=1e-3)


def test_unequal_bandwidths_match_the_gaussian_kl():
    # KL(N(0, 1) || N(0, 2^2)) = log 2 + 1/8 - 1/2
    oa, kl = overlap_and_kl([0.0], [0.0], bandwidth=(1.0, 2.0))
    assert kl == pytest.approx(np.log(2) + 1 / 8 - 1 / 2, rel=1e-3)
    assert 0.5 < oa < 1.0


def test_identical_samples_overlap_fully_and_disjoint_ones_not_at_all():
    a = np.random.default_rng(0).normal(size=5000)
    assert overlap_and_kl(a, a.copy()) == (pytest.approx(1.0), pytest.approx(0.0, abs=1e-12))
    oa, kl = overlap_and_kl(a, a + 100)
    assert oa < 1e-6 and kl > 10 and np.isfinite(kl)


def test_overlap_is_symmetric_kl_is_not():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.5, 2, 2000)
    assert overlap_and_kl(a, b)[0] == pytest.approx(overlap_and_kl(b, a)[0], abs=1e-9)
    assert overlap_and_kl(a, b)[1] != pytest.approx(overlap_and_kl(b, a)[1], rel=0.05)


def test_sample_without_spread_still_has_a_density():
    constant = np.full(100, 0.3)
    oa, kl = overlap_and_kl(constant, constant)
    assert (oa, kl) == (1.0, 0.0)
    oa, kl = overlap_and_kl(constant, np.random.default_rng(0).normal(0.3, 1.0, 500))
    assert 0 < oa < 0.5 and np.isfinite(kl)


def test_empty_sample_is_refused():
    with pytest.raises(ValueError, match="non-empty"):
        overlap_and_kl([], [1.0])
