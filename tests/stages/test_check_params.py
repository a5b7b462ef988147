"""params.yaml is checked before DVC runs anything: DVC deletes a stage's outputs before the
stage itself could refuse a mistyped key, so `make run` and the pipeline flow check first."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ganaudio.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_checks_params_before_dvc_repro():
    # -n prints the recipes without running them
    out = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if "check-params" in line or "dvc repro" in line]
    assert len(lines) == 2 and "check-params params.yaml" in lines[0] and "dvc repro" in lines[1], out


def test_pipeline_flow_refuses_a_mistyped_params_file_before_any_stage(tmp_path):
    from flows.pipeline import pipeline

    (tmp_path / "params.yaml").write_text("notes:\n  strid: 32\n")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    kept = tmp_path / "data" / "processed" / "notes" / "stats.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    with pytest.raises(ConfigError, match="unknown key 'notes.strid'"):
        pipeline.fn(gan="pianogan", workspace=str(tmp_path))  # the undecorated function: no Prefect server
    assert kept.exists()
