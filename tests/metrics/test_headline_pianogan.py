import json

import numpy as np
import pytest

from ganaudio.metrics.headline import pianogan as hl
from ganaudio.metrics.piano_table import ROWS, Scorer, flat_metrics, table
from ganaudio.metrics import baselines
from tests.metrics.conftest import structured_windows


@pytest.mark.parametrize("value, floor, ceiling, want", [
    (0.5, 0.5, 0.9, 0.0), (0.9, 0.5, 0.9, 1.0), (0.7, 0.5, 0.9, 0.5), (0.3, 0.5, 0.9, -0.5),
    (0.2, 0.6, 0.1, 0.8),  # a distance: lower is better, the ceiling is the smaller value
])
def test_gap_closed(value, floor, ceiling, want):
    assert hl.gap_closed(value, floor, ceiling) == pytest.approx(want)


def test_gap_closed_without_a_gap_is_none():
    assert hl.gap_closed(0.4, 0.5, 0.5) is None


def test_structure_scores_put_the_floor_mean_at_0_and_the_reference_mean_at_1():
    s = hl.structure_scores({"iid_notes": [0.50, 0.52], "reference": [0.89, 0.91], "trained": [0.70]})
    assert np.mean(s["iid_notes"]) == pytest.approx(0.0) and np.mean(s["reference"]) == pytest.approx(1.0)
    assert s["trained"][0] == pytest.approx((0.70 - 0.51) / (0.90 - 0.51))
    with pytest.raises(ValueError, match="reference"):
        hl.structure_scores({"iid_notes": [0.5]})


@pytest.mark.parametrize("trained, copy_share, passed, word", [
    ([0.30, 0.32], 0.01, True, "PASSED"),
    ([0.30, 0.32], 0.05, False, "FAILED"),   # copies: the gate fails however good the score
    ([0.02, 0.03], 0.00, False, "FAILED"),   # within 3 x the floor's spread
])
def test_headline_needs_novelty_and_a_margin_over_3_floor_std(trained, copy_share, passed, word):
    scores = {"trained": trained, "iid_notes": [-0.01, 0.0, 0.01]}
    h = hl.headline(scores, copy_share, 0.05)
    assert h["passed"] is passed and h["verdict"].startswith(word)
    assert h["baseline_std"] == pytest.approx(0.01) and h["required_margin"] == pytest.approx(0.03)
    for key, kind in (("name", str), ("score", float), ("baseline_score", float), ("baseline_std", float),
                      ("passed", bool)):
        assert isinstance(h[key], kind), key


def test_table_ranks_the_rows_and_flags_the_copy():
    """The whole evaluation on tiny sets: iid at 0, reference at 1, copy_train flagged, JSON-clean."""
    train, target = structured_windows(40, seed=0), structured_windows(20, seed=1)
    scorer = Scorer(target, train)
    draws = {row: [] for row in ROWS}
    for seed in range(3):
        sets = {"trained": structured_windows(20, seed=10 + seed),  # a 'model' that learned the style
                "untrained": baselines.iid_notes(train, 20, np.random.default_rng(seed))[..., [0, 1, 2, 3]] * [1, 3, 1, 1],
                "reference": baselines.copy_train(train, 20, np.random.default_rng(100 + seed))}
        for name in baselines.BASELINES:
            sets[name] = baselines.make(name, train, 20, seed)
        for row in ROWS:
            draws[row].append(scorer.score(sets[row]))
    result = table(draws, "valid", max_copy_share=0.05)
    rows = result["rows"]
    assert rows["iid_notes"]["structure_score"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert rows["reference"]["structure_score"]["mean"] == pytest.approx(1.0)
    assert rows["copy_train"]["novelty"]["copy_share"]["mean"] == 1.0 and rows["copy_train"]["novelty"]["failed"]
    assert "copy_train" in result["flagged"] and "trained" not in result["flagged"]
    assert rows["reference"]["novelty"]["failed"] is None  # real data: the gate applies to generators
    assert rows["trained"]["structure_score"]["mean"] > 0.5 > rows["untrained"]["structure_score"]["mean"]
    assert rows["shuffled_train"]["order_score"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert rows["trained"]["order_score"]["mean"] > 0.5  # the 'model' keeps the order shuffling loses
    assert result["headline"]["passed"]
    json.loads(json.dumps(result, allow_nan=False))  # plain, finite JSON
    flat = flat_metrics(result)
    assert flat["headline/passed"] == 1.0 and flat["copy_train/copy_share"] == 1.0
