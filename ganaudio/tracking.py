"""Experiment tracking, injected: library code talks to a `Tracker`, never to MLflow directly.

`NullTracker` does nothing (tests, `runtime.mlflow: false`); `MlflowTracker` imports MLflow only
when created, so `ganaudio` imports without it. A flow that wants each stage's run nested under
its own sets GANAUDIO_PARENT_RUN_ID; stages run in their own processes, so nesting is done with
MLflow's `mlflow.parentRunId` tag rather than `nested=True`.

Artifacts always go through MLflow's artifact API into the experiment's artifact location. With
a tracking server (`MLFLOW_TRACKING_URI=http://...`, started with `--serve-artifacts`) the server
chooses that location and serves it to any host; with a local store (the default sqlite file)
each experiment gets its own folder `<workspace>/mlruns/<experiment>`.
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

from ganaudio.errors import GanaudioError

log = logging.getLogger(__name__)

PARENT_RUN_ENV = "GANAUDIO_PARENT_RUN_ID"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# Links between runs, by content: a train run tags the sha256 of the checkpoint it registered,
# an eval run the sha256 of the checkpoint it scored.
CHECKPOINT_TAG = "ganaudio.checkpoint"
SCORED_TAG = "ganaudio.scored_checkpoint"
LOCK_HASH_TAG = "dvc.lock_hash"
SERVER_SCHEMES = ("http", "https", "databricks")  # stores whose server decides where artifacts go


class TrackingError(GanaudioError, ValueError):
    """The MLflow store is in a state the user has to fix (the message says how)."""


class Tracker:
    """No-op tracker; the interface library code may call."""

    run_id: Optional[str] = None

    def log_params(self, params: dict[str, Any]) -> None: ...

    def log_metrics(self, metrics: dict[str, float], step: Optional[int] = None) -> None: ...

    def log_artifact(self, path: str | os.PathLike, artifact_path: Optional[str] = None) -> None: ...

    def log_artifacts(self, folder: str | os.PathLike, artifact_path: Optional[str] = None) -> None: ...

    def log_dict(self, obj: dict, artifact_file: str) -> None: ...

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

    def log_dict(self, obj, artifact_file):
        self._mlflow.log_dict(obj, artifact_file)

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
    """One tracked run per stage, tagged with git commit and stage name.

    `dvc.lock_hash` is not set here: DVC writes the stage's lock entry only after this process
    exits, so the flow that ran `dvc repro` tags it afterwards (ganaudio.orchestration.pipeline_run).
    """
    if not enabled:
        yield Tracker()
        return
    mlflow = import_mlflow()
    from mlflow import MlflowClient

    experiment_id = ensure_experiment(MlflowClient(), experiment, ".")
    tags = {"ganaudio.stage": stage, "git.commit": git_commit() or "unknown"}
    parent = os.environ.get(PARENT_RUN_ENV)
    if parent:
        tags["mlflow.parentRunId"] = parent
    with mlflow.start_run(experiment_id=experiment_id, run_name=stage, tags=tags) as run:
        tracker = MlflowTracker(mlflow, run)
        if params:
            tracker.log_params(params)
        yield tracker


def artifact_location(tracking_uri: str, experiment: str, workspace: str | os.PathLike) -> Optional[str]:
    """Where a new experiment keeps its artifacts: the server's choice, or `<workspace>/mlruns/<experiment>`.

    MLflow's own default for a local store is `./mlruns` of whichever folder the process was
    started in; a flow started elsewhere would scatter artifacts, so local stores get the workspace's.
    """
    scheme = tracking_uri.split(":", 1)[0].lower() if ":" in tracking_uri else ""
    if scheme in SERVER_SCHEMES:
        return None
    return (Path(workspace).resolve() / "mlruns" / experiment).as_uri()


def ensure_experiment(client, name: str, workspace: str | os.PathLike = ".") -> str:
    """The id of experiment `name`, created (with its own artifact folder) if missing."""
    from mlflow.exceptions import MlflowException

    exp = client.get_experiment_by_name(name)
    if exp is None:
        try:
            return client.create_experiment(name, artifact_location=artifact_location(
                client.tracking_uri, name, workspace))
        except MlflowException:  # created meanwhile by another process
            exp = client.get_experiment_by_name(name)
            if exp is None:
                raise
    if exp.lifecycle_stage == "deleted":
        raise TrackingError(f"MLflow experiment {name!r} is deleted; restore it (`mlflow experiments restore "
                         f"--experiment-id {exp.experiment_id}`) or delete it for good (`mlflow gc`)")
    return exp.experiment_id


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes: the identity of a checkpoint across runs."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
