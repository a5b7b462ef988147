"""Shared fixtures: a throwaway copy of the project where DVC, the stages and MLflow run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "fetch_maestro": {"embedded": {"pieces": 12}},
    "fetch_sc09": {"embedded": {"clips": 150}},
    "notes": {"stride": 128},
    "pianogan": {"preset": "debug"},
    "spectogan": {"preset": "debug"},
    "wavegan": {"preset": "debug"},
    "classifier": {"epochs": 2, "patience": 1},
    "runtime": {"progress": False, "workers": 1},
}


def make_workspace(dest: Path, overrides: dict = TINY) -> Path:
    from ganaudio.config import deep_merge

    for name in ("ganaudio", "stages", "flows"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", dest / "dvc.yaml")
    shutil.copytree(ROOT / ".dvc", dest / ".dvc", ignore=shutil.ignore_patterns("tmp", "cache"))
    params = deep_merge(yaml.safe_load((ROOT / "params.yaml").read_text()), overrides)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    # A local identity: CI machines may have no global one, and `dvc exp` commits too.
    subprocess.run(["git", "config", "user.email", "tests@ganaudio.invalid"], cwd=dest, check=True)
    subprocess.run(["git", "config", "user.name", "ganaudio tests"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run(["git", "commit", "-qm", "workspace"], cwd=dest, check=True)
    return dest


def workspace_env(ws: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{ws / 'mlflow.db'}"
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def dvc(ws: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    dvc_bin = Path(sys.executable).parent / "dvc"
    return subprocess.run([str(dvc_bin), *args], cwd=ws, env={**workspace_env(ws), **(env or {})},
                          capture_output=True, text=True)


@pytest.fixture(scope="session")
def workspace_tools():
    """make(dest, overrides=TINY) builds a git+DVC workspace; dvc(ws, *args) runs DVC in it; env(ws) its environment."""
    return SimpleNamespace(make=make_workspace, dvc=dvc, env=workspace_env, tiny=TINY, root=ROOT)
