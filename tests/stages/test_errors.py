"""Errors people read: expected ones are one line on stderr with exit code 2, unexpected ones keep
their traceback, and GANAUDIO_DEBUG=1 shows the traceback of expected ones too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ganaudio.config import ConfigError
from ganaudio.errors import EXIT_EXPECTED, MissingInputError, run_main

ROOT = Path(__file__).resolve().parents[2]


def stage(name: str, *args: str, debug: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GANAUDIO_DEBUG"}
    if debug:
        env["GANAUDIO_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-m", f"stages.{name}", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def notes_args(tmp_path: Path, params: Path) -> list[str]:
    return ["--params", str(params), "--maestro", str(tmp_path / "maestro"), "--out", str(tmp_path / "out"),
            "--plots", str(tmp_path / "plots"), "--metrics", str(tmp_path / "notes.json")]


def test_a_bad_param_is_exactly_one_line_on_stderr(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("notes:\n  stride: 0\n")
    result = stage("notes", *notes_args(tmp_path, params))
    assert result.returncode == EXIT_EXPECTED
    assert result.stderr.splitlines() == [
        f"stages.notes: error: {params}: 'notes.stride' is 0; allowed: an integer >= 1"]
    assert not (tmp_path / "out").exists() and not (tmp_path / "notes.json").exists()


def test_a_missing_input_is_one_line_naming_the_stage_to_run(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("runtime: {mlflow: false}\n")
    result = stage("notes", *notes_args(tmp_path, params))
    assert result.returncode == EXIT_EXPECTED
    (line,) = result.stderr.splitlines()
    assert "maestro-v3.0.0.csv" in line and "dvc repro fetch_maestro" in line and "Traceback" not in line


def test_debug_shows_the_traceback(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("notes: {stride: 0}\n")
    result = stage("notes", *notes_args(tmp_path, params), debug=True)
    assert result.returncode == EXIT_EXPECTED
    assert result.stderr.startswith("Traceback") and "ConfigError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("stages.notes: error:")


def test_unexpected_errors_keep_their_traceback():
    def bug():
        raise KeyError("a bug, not a user error")

    with pytest.raises(KeyError):
        run_main(bug, "prog", debug=False)
    with pytest.raises(ValueError):  # a plain ValueError is not an expected error
        run_main(lambda: int("x"), "prog", debug=False)


def test_expected_errors_are_folded_onto_one_line(capsys):
    def fails():
        raise MissingInputError("data/x.pt is missing;\n  run `dvc repro mels` first")

    assert run_main(fails, "prog", debug=False) == EXIT_EXPECTED
    assert capsys.readouterr().err == "prog: error: data/x.pt is missing; run `dvc repro mels` first\n"
    assert issubclass(ConfigError, ValueError)  # callers catching ValueError keep working
