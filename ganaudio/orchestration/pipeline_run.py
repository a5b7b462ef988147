"""The flow-level MLflow run that stage runs point to with `mlflow.parentRunId`, and what it records.

Uses `MlflowClient` rather than the fluent API: a flow may nest another flow (retrain runs the
pipeline), and the fluent API's single active run would tangle the two.

A pipeline run carries a unique name (`<gan>-<commit>-<time>`), the resolved params its stages
read, the headline metrics of its evaluations, which model version each GAN's workspace model
is, and `stages.json`: one row per planned stage linking the run that ran it (or, for a stage DVC
found up to date, the run that produced its current lock entry).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Iterator, Optional

from ganaudio.config import flatten, load_params, to_dict
from ganaudio.metrics.headline.rules import headline
from ganaudio.orchestration import dag
from ganaudio.orchestration.dvc import tracking_uri
from ganaudio.tracking import (CHECKPOINT_TAG, LOCK_HASH_TAG, dvc_lock_hash, ensure_experiment, file_digest, git_commit,
                               import_mlflow)

log = logging.getLogger(__name__)

PARAMS_TAG = "ganaudio.params_of."    # + gan: the params.yaml keys that GAN's stages read
VERSION_TAG = "ganaudio.version_of."  # + gan: the model version of the workspace's model after the run
STAGES_ARTIFACT = "stages.json"
MLFLOW_BATCH = 100  # MLflow takes at most this many params per log_batch call


def client_for(workspace: str | os.PathLike):
    """An MlflowClient on the store the workspace's stages write to."""
    import_mlflow()
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri(workspace))


def run_name(label: str, workspace: str | os.PathLike) -> str:
    """'<label>-<short commit>-<YYYYmmdd-HHMMSS>': tells pipeline runs apart in any list."""
    commit = (git_commit(workspace) or "")[:7] or "nocommit"
    return f"{label}-{commit}-{time.strftime('%Y%m%d-%H%M%S')}"


@contextlib.contextmanager
def flow_run(client, workspace: str | os.PathLike, experiment: str, name: str,
             tags: Optional[dict[str, str]] = None, parent_run_id: Optional[str] = None) -> Iterator[str]:
    """Open an MLflow run for a flow run; yields its id; FINISHED on success, FAILED on an exception."""
    tags = {"ganaudio.flow": experiment, "git.commit": git_commit(workspace) or "unknown", **(tags or {})}
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    run = client.create_run(ensure_experiment(client, experiment, workspace), run_name=name, tags=tags)
    status = "FAILED"
    try:
        yield run.info.run_id
        status = "FINISHED"
    finally:
        client.set_terminated(run.info.run_id, status=status)


def log_params(client, run_id: str, params: dict) -> None:
    """Flat params in batches (MLflow caps a batch at 100 and a value at 6000 characters)."""
    from mlflow.entities import Param

    items = [Param(k, str(v)[:6000]) for k, v in params.items()]
    for i in range(0, len(items), MLFLOW_BATCH):
        client.log_batch(run_id, params=items[i:i + MLFLOW_BATCH])


def resolved_params(params_yaml: str | os.PathLike, keys: list[str]) -> dict:
    """The resolved config (presets applied) under the given params.yaml keys, flattened."""
    if not keys:
        return {}  # no stage reads params.yaml (there may be none)
    flat = flatten(to_dict(load_params(params_yaml)))
    return {k: v for k, v in flat.items() if any(k == p or k.startswith(p + ".") for p in keys)}


def _experiment_ids(client) -> list[str]:
    return [e.experiment_id for e in client.search_experiments()]


def stage_runs(client, parent_run_id: str, experiments: Optional[tuple[str, ...]] = None) -> list:
    """The stage runs a flow run started (tagged with its id as parent), oldest first.

    experiments: restrict to these experiment names (default: every experiment).
    """
    if experiments is None:
        ids = _experiment_ids(client)
    else:
        ids = [e.experiment_id for e in (client.get_experiment_by_name(n) for n in experiments) if e is not None]
    if not ids:
        return []
    return [r for r in client.search_runs(ids, filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'",
                                          order_by=["attributes.start_time ASC"])
            if "ganaudio.stage" in r.data.tags]


def stamp_lock_hash(client, parent_run_id: str, stage: str, workspace: str | os.PathLike) -> Optional[str]:
    """Tag this flow run's run of `stage` with its dvc.lock entry as DVC wrote it after the stage.

    The stage process cannot do this itself: DVC writes dvc.lock only after the command exits.
    """
    lock_hash = dvc_lock_hash(stage, Path(workspace) / "dvc.lock")
    runs = [r for r in stage_runs(client, parent_run_id) if r.data.tags.get("ganaudio.stage") == stage]
    if lock_hash is None or not runs:
        return None
    client.set_tag(runs[-1].info.run_id, LOCK_HASH_TAG, lock_hash)
    return runs[-1].info.run_id


def producer_of(client, stage: str, workspace: str | os.PathLike):
    """The newest run whose lock hash is the stage's current dvc.lock entry: the run behind its outputs."""
    lock_hash = dvc_lock_hash(stage, Path(workspace) / "dvc.lock")
    if lock_hash is None:
        return None
    where = f"tags.`{LOCK_HASH_TAG}` = '{lock_hash}' and tags.`ganaudio.stage` = '{stage}'"
    runs = client.search_runs(_experiment_ids(client), filter_string=where,
                              order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def stage_table(client, parent_run_id: str, ran: dict[str, bool], workspace: str | os.PathLike) -> dict:
    """Columns of `stages.json`: each planned stage, whether it ran, and the run that made its outputs."""
    mine = {r.data.tags["ganaudio.stage"]: r for r in stage_runs(client, parent_run_id)}
    names = {}
    cols = {k: [] for k in ("stage", "ran", "run_id", "run_name", "experiment", "status", "link")}
    for stage, did_run in ran.items():
        run = mine.get(stage) if did_run else producer_of(client, stage, workspace)
        exp_id = run.info.experiment_id if run else ""
        if exp_id and exp_id not in names:
            names[exp_id] = client.get_experiment(exp_id).name
        cols["stage"].append(stage)
        cols["ran"].append(bool(did_run))
        cols["run_id"].append(run.info.run_id if run else "")
        cols["run_name"].append(run.info.run_name if run else "")
        cols["experiment"].append(names.get(exp_id, ""))
        cols["status"].append("up to date" if not did_run else run.info.status if run else "no MLflow run")
        # A route of the MLflow UI: prefix the server's address to open it.
        cols["link"].append(f"#/experiments/{exp_id}/runs/{run.info.run_id}" if run else "")
    return cols


def planned_gans(plan: list[str]) -> list[str]:
    return [g for g in dag.GANS if f"eval_{g}" in plan or f"train_{g}" in plan]


def log_pipeline_params(client, run_id: str, workspace: str | os.PathLike, plan: list[str]) -> dict:
    """Before the stages: the resolved params every planned stage reads, and which of them each GAN reads."""
    stages = dag.load_stages(Path(workspace) / "dvc.yaml")
    params = resolved_params(Path(workspace) / "params.yaml", dag.params_of(stages, plan))
    log_params(client, run_id, params)
    for gan in planned_gans(plan):
        mine = [s for s in dag.plan(Path(workspace) / "dvc.yaml", gan) if s in plan]
        client.set_tag(run_id, PARAMS_TAG + gan, ",".join(dag.params_of(stages, mine)))
    return params


def record_pipeline(client, run_id: str, workspace: str | os.PathLike, ran: dict[str, bool]) -> dict:
    """After the stages: headline metrics, model versions and the stage table on the pipeline run.

    The numbers come from the workspace's reports and checkpoints as the stages left them (DVC
    has just made them current). Returns {gan: headline} for the GANs that have one.
    """
    from ganaudio.tasks.common import trained_checkpoint  # torch: only when recording

    ws = Path(workspace)
    stages = dag.load_stages(ws / "dvc.yaml")
    headlines = {}
    for gan in planned_gans(list(ran)):
        where = dag.gan_outputs(stages, gan)
        report = ws / where["metrics"] if where["metrics"] else None
        if f"eval_{gan}" in ran and report is not None and report.exists():
            try:
                headlines[gan] = headline(gan, report)
            except ValueError as e:
                log.warning("%s: no headline for the pipeline run: %s", gan, e)
            else:
                for key, value in headlines[gan].items():
                    client.log_metric(run_id, f"{gan}/{key}", value)
        if where["model"] is not None:
            try:
                checkpoint = trained_checkpoint(ws / where["model"], gan)
            except FileNotFoundError:
                continue
            version = version_of_checkpoint(client, gan, file_digest(checkpoint))
            if version is not None:
                client.set_tag(run_id, VERSION_TAG + gan, str(version.version))
    client.set_tag(run_id, "ganaudio.stages_ran", ",".join(s for s, r in ran.items() if r) or "none")
    client.log_table(run_id, stage_table(client, run_id, ran, ws), STAGES_ARTIFACT)
    return headlines


def model_name(gan: str) -> str:
    """The registered model a GAN's train stage logs its generator to."""
    return f"ganaudio-{gan}"


def version_of_checkpoint(client, gan: str, digest: str):
    """The newest model version registered from a checkpoint with this sha256, or None."""
    exp = client.get_experiment_by_name(gan)
    if exp is None or not digest:
        return None
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.`{CHECKPOINT_TAG}` = '{digest}'",
                              order_by=["attributes.start_time DESC"])
    ids = {r.info.run_id for r in runs}
    if not ids:
        return None
    from mlflow.exceptions import MlflowException

    try:
        versions = [v for v in client.search_model_versions(f"name = '{model_name(gan)}'") if v.run_id in ids]
    except MlflowException:
        return None
    return max(versions, key=lambda v: int(v.version)) if versions else None
