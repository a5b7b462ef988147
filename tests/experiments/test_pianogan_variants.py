"""The variants script is a model-choice tool: it must score on valid and never open the test split."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ganaudio.data.windows import NoteStats

ROOT = Path(__file__).resolve().parents[2]
L = 256  # the debug preset keeps the real window length


def load_script():
    spec = importlib.util.spec_from_file_location("pianogan_variants", ROOT / "experiments/pianogan_variants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def notes_without_test(tmp_path):
    """A notes folder with train and valid windows and no windows_test.npz at all."""
    rng = np.random.default_rng(0)

    def windows(n):
        step = np.where(rng.random((n, L)) < 0.3, 0.0, rng.exponential(0.2, (n, L)))
        return np.stack([rng.integers(40, 90, (n, L)), step, rng.exponential(0.4, (n, L)) + 0.02,
                         rng.integers(20, 110, (n, L))], -1).astype(np.float32)

    train = windows(8)
    NoteStats.fit(train).to_json(tmp_path / "stats.json")
    np.savez(tmp_path / "windows_train.npz", windows=train, piece_ids=np.arange(8))
    np.savez(tmp_path / "windows_valid.npz", windows=windows(4), piece_ids=np.arange(4))
    return tmp_path


@pytest.mark.slow
def test_a_variant_trains_and_is_scored_on_valid_without_the_test_split(notes_without_test, tmp_path, monkeypatch):
    script = load_script()
    opened = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda path, *a, **k: opened.append(Path(path).name) or real_load(path, *a, **k))
    result = script.run_variant("tiny", {"preset": "debug"}, str(ROOT / "params.yaml"), str(notes_without_test),
                                str(tmp_path / "out"), threads=1)
    assert result["split"] == "valid" and result["target"]["split"] == "valid"
    assert "windows_valid.npz" in opened and "windows_test.npz" not in opened
    assert set(result["rows"]) == {"trained", "untrained", "iid_notes", "shuffled_train", "copy_train", "reference"}
    assert isinstance(result["headline"]["score"], float)
    assert "FAIL" in script.row(result) or "pass" in script.row(result)


def test_the_selection_split_is_valid_and_evaluate_would_need_the_test_file(notes_without_test):
    """The other half of the proof: scoring on test in this folder fails, so the run above did not."""
    from ganaudio.tasks.pianogan import raw_windows

    assert load_script().SELECTION_SPLIT == "valid"
    with pytest.raises(FileNotFoundError, match="windows_test.npz"):
        raw_windows(notes_without_test, "test")
