"""The README's digit table reports the step each model reached, whatever run wrote train.json."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def digits_table():
    spec = importlib.util.spec_from_file_location("digits_table", ROOT / "experiments/digits_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("train,cell", [
    ({"steps": 6500, "steps_run": 6500, "resumed_from": None, "train_seconds": 1170}, "6,500 steps, 19.5 min"),
    # killed at 1,256 and resumed: this invocation ran the other 5,244
    ({"steps": 6500, "steps_run": 5244, "resumed_from": 1256, "train_seconds": 1170}, "6,500 steps, 19.5 min"),
    # a rerun found the finished checkpoint and trained nothing
    ({"steps": 8000, "steps_run": 0, "resumed_from": 8000, "train_seconds": 3120}, "8,000 steps, 52.0 min"),
    # the monitor stopped it early
    ({"steps": 8000, "steps_run": 5500, "resumed_from": None, "train_seconds": 600}, "5,500 steps, 10.0 min"),
])
def test_training_cell_counts_every_invocation(digits_table, train, cell):
    assert digits_table.training(train) == cell
