"""`ganaudio` CLI: everything is checked before --out exists; errors are one line, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganaudio.cli import main
from ganaudio.config import SpectoGANModelConfig
from ganaudio.models.registry import build_generator, config_dict


@pytest.fixture
def spectogan_checkpoint(tmp_path) -> Path:
    """A real (untrained) SpectoGAN generator.pt: what `ganaudio generate pianogan` must refuse."""
    cfg = SpectoGANModelConfig(latent_dim=4, d=1)
    shape = (1, 16, 16)
    generator = build_generator("spectogan", cfg, shape)
    path = tmp_path / "spectogan.pt"
    torch.save({"kind": "spectogan", "step": 0, "generator": generator.state_dict(),
                "model_config": config_dict(cfg), "data_shape": list(shape)}, path)
    return path


def run(argv, capsys) -> tuple[int, list[str]]:
    code = main(argv)
    return code, capsys.readouterr().err.splitlines()


def test_wrong_kind_of_checkpoint_is_one_line_and_writes_nothing(spectogan_checkpoint, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = run(["generate", "pianogan", "--checkpoint", str(spectogan_checkpoint), "--out", str(out),
                     "--params", str(tmp_path / "none.yaml")], capsys)
    assert code == 2
    assert [line for line in err if line.startswith("ganaudio:")] == [
        f"ganaudio: error: {spectogan_checkpoint} is a spectogan checkpoint, not pianogan; run "
        "`ganaudio generate spectogan ...` or pass a pianogan checkpoint"]
    assert not out.exists()


@pytest.mark.parametrize("n", ["0", "-1"])
def test_n_below_one_is_refused_before_out_is_created(spectogan_checkpoint, tmp_path, capsys, n):
    out = tmp_path / "out"
    code, err = run(["generate", "spectogan", "--checkpoint", str(spectogan_checkpoint), "--n", n,
                     "--out", str(out), "--params", str(tmp_path / "none.yaml")], capsys)
    assert code == 2 and f"ganaudio: error: --n is {n}; pass the number of samples to write, 1 or more" in err
    assert not out.exists()


def test_missing_stats_is_refused_before_out_is_created(spectogan_checkpoint, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = run(["generate", "spectogan", "--checkpoint", str(spectogan_checkpoint), "--out", str(out),
                     "--data", str(tmp_path / "nowhere"), "--params", str(tmp_path / "none.yaml")], capsys)
    assert code == 2 and any("stats.pt not found" in line and "dvc repro mels" in line for line in err)
    assert not out.exists()


def test_unreadable_checkpoint_is_one_line(tmp_path, capsys):
    bad = tmp_path / "latest.pt"
    bad.write_bytes(b"not a checkpoint")
    code, err = run(["generate", "spectogan", "--checkpoint", str(bad), "--out", str(tmp_path / "out"),
                     "--params", str(tmp_path / "none.yaml")], capsys)
    assert code == 2 and any(line.startswith(f"ganaudio: error: {bad}: not a readable") for line in err)


def test_check_params(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("notes: {stride: 32}\n")
    assert main(["check-params", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: ok\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("notes: {strid: 32}\n")
    code, err = run(["check-params", str(bad)], capsys)
    assert code == 2 and any("unknown key 'notes.strid'" in line for line in err)


def test_cli_stderr_is_one_line_and_debug_adds_the_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("notes: {max_failed_share: -1}\n")
    env = {k: v for k, v in os.environ.items() if k != "GANAUDIO_DEBUG"}
    cmd = [sys.executable, "-m", "ganaudio.cli"]
    plain = subprocess.run([*cmd, "check-params", str(bad)], env=env, capture_output=True, text=True)
    assert plain.returncode == 2
    assert plain.stderr.splitlines() == [
        f"ganaudio: error: {bad}: 'notes.max_failed_share' is -1.0; allowed: a finite number >= 0 and <= 1"]
    debug = subprocess.run([*cmd, "--debug", "check-params", str(bad)], env=env, capture_output=True, text=True)
    assert debug.returncode == 2 and debug.stderr.startswith("Traceback") and "ConfigError" in debug.stderr
