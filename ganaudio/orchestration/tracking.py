"""The flow-level MLflow run that stage runs point to with `mlflow.parentRunId`.

Uses `MlflowClient` rather than the fluent API: a flow may nest another flow (retrain runs the
pipeline), and the fluent API's single active run would tangle the two.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Optional

from ganaudio.orchestration.dvc import tracking_uri
from ganaudio.utils.tracking import git_commit, import_mlflow


def client_for(workspace: str | os.PathLike):
    """An MlflowClient on the store the workspace's stages write to."""
    import_mlflow()
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri(workspace))


def experiment_id(client, name: str, workspace: str | os.PathLike) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    try:
        # Artifacts beside the workspace's own runs, not in whatever folder the flow was started from.
        return client.create_experiment(name, artifact_location=(Path(workspace).resolve() / "mlruns").as_uri())
    except Exception:  # created meanwhile by a stage process
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


@contextlib.contextmanager
def flow_run(client, workspace: str | os.PathLike, experiment: str, run_name: str,
             tags: Optional[dict[str, str]] = None, parent_run_id: Optional[str] = None) -> Iterator[str]:
    """Open an MLflow run for a flow run; yields its id; FINISHED on success, FAILED on an exception."""
    tags = {"ganaudio.flow": experiment, "git.commit": git_commit(workspace) or "unknown", **(tags or {})}
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    run = client.create_run(experiment_id(client, experiment, workspace), run_name=run_name, tags=tags)
    status = "FAILED"
    try:
        yield run.info.run_id
        status = "FINISHED"
    finally:
        client.set_terminated(run.info.run_id, status=status)


def stage_runs(client, parent_run_id: str, experiments: tuple[str, ...] = ("data", "pianogan", "spectogan", "wavegan")) -> list:
    """The stage runs a flow run started (tagged with its id as parent), oldest first."""
    ids = [e.experiment_id for e in (client.get_experiment_by_name(n) for n in experiments) if e is not None]
    if not ids:
        return []
    return list(client.search_runs(ids, filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'",
                                   order_by=["attributes.start_time ASC"]))
