"""Experiment tracking, injected: library code talks to a `Tracker`, never to MLflow directly.

`NullTracker` does nothing (tests, `runtime.mlflow: false`); `MlflowTracker` imports MLflow only
when created, so `ganaudio` imports without it. A flow that wants each stage's run nested under
its own sets GANAUDIO_PARENT_RUN_ID; stages run in their own processes, so nesting is done with
MLflow's `mlflow.parentRunId` tag rather than `nested=True`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

log = logging.getLogger(__name__)

PARENT_RUN_ENV = "GANAUDIO_PARENT_RUN_ID"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


class Tracker:
    """No-op tracker; the interface library code may call."""

    run_id: Optional[str] = None

    def log_params(self, params: dict[str, Any]) -> None: ...

    def log_metrics(self, metrics: dict[str, float], step: Optional[int] = None) -> None: ...

    def log_artifact(self, path: str | os.PathLike, artifact_path: Optional[str] = None) -> None: ...

    def log_artifacts(self, folder: str | os.PathLike, artifact_path: Optional[str] = None) -> None: ...

    def set_tags(self, tags: dict[str, str]) -> None: ...

    def log_model(self, model, name: str, input_example=None, registered_name: Optional[str] = None,
                  serialization_format: str = "pt2") -> None: ...


NullTracker = Tracker


class MlflowTracker(Tracker):
    def __init__(self, mlflow_module, run):
        self._mlflow = mlflow_module
        self.run_id = run.info.run_id

    def log_params(self, params):
        # MLflow caps a param value at 6000 chars and rejects re-logging a different value.
        self._mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})

    def log_metrics(self, metrics, step=None):
        finite = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
        if finite:
            self._mlflow.log_metrics(finite, step=step)

    def log_artifact(self, path, artifact_path=None):
        self._mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def log_artifacts(self, folder, artifact_path=None):
        self._mlflow.log_artifacts(str(folder), artifact_path=artifact_path)

    def set_tags(self, tags):
        self._mlflow.set_tags(tags)

    def log_model(self, model, name, input_example=None, registered_name=None, serialization_format="pt2"):
        import mlflow.pytorch

        # Explicit requirements: MLflow's inference of them spawns a subprocess per call.
        import torch

        mlflow.pytorch.log_model(model, name=name, input_example=input_example,
                                 registered_model_name=registered_name, serialization_format=serialization_format,
                                 pip_requirements=[f"torch=={torch.__version__.split('+')[0]}", "ganaudio"])


def import_mlflow():
    """Import MLflow without letting its sqlite migration reconfigure the root logger."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import mlflow

    os.environ.setdefault("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    root.handlers[:] = handlers
    root.setLevel(level)
    return mlflow


@contextlib.contextmanager
def start_run(experiment: str, stage: str, params: Optional[dict[str, Any]] = None,
              enabled: bool = True) -> Iterator[Tracker]:
    """One tracked run per stage, tagged with git commit, stage name and dvc.lock entry hash."""
    if not enabled:
        yield Tracker()
        return
    mlflow = import_mlflow()
    mlflow.set_experiment(experiment)
    tags = {"ganaudio.stage": stage, "git.commit": git_commit() or "unknown",
            "dvc.lock_hash": dvc_lock_hash(stage) or "none"}
    parent = os.environ.get(PARENT_RUN_ENV)
    if parent:
        tags["mlflow.parentRunId"] = parent
    with mlflow.start_run(run_name=stage, tags=tags) as run:
        tracker = MlflowTracker(mlflow, run)
        if params:
            tracker.log_params(params)
        yield tracker


def git_commit(cwd: str | os.PathLike = ".") -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def dvc_lock_hash(stage: str, lock_path: str | os.PathLike = "dvc.lock") -> Optional[str]:
    """Hash of the stage's dvc.lock entry (its deps, params and outs as last reproduced)."""
    path = Path(lock_path)
    if not path.exists():
        return None
    entry = (yaml.safe_load(path.read_text()) or {}).get("stages", {}).get(stage)
    if entry is None:
        return None
    return hashlib.md5(yaml.safe_dump(entry, sort_keys=True).encode()).hexdigest()
