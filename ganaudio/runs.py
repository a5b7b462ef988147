"""`ganaudio runs`: the terminal compare view of recent MLflow runs.

Shows only the params that differ across the listed runs (the ones that explain a difference),
the experiment's headline metrics, and which run produced the registered `champion` generator.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Optional

HEADLINE = {
    "pianogan": ["median_gap_closed"],
    "spectogan": ["fid", "inception_score", "ndb_k"],
    "wavegan": ["fid", "inception_score", "ndb_k"],
    "pipeline": ["pianogan/median_gap_closed", "spectogan/fid", "spectogan/inception_score", "wavegan/fid",
                 "wavegan/inception_score"],
}
OTHER_METRICS = 4  # for experiments without a headline list: this many metric columns
MISSING = "·"


def differing_params(runs: list) -> list[str]:
    """Param keys whose value (absent counts as a value) is not the same in every run."""
    keys = sorted({k for r in runs for k in r.data.params})
    return [k for k in keys if len({r.data.params.get(k) for r in runs}) > 1]


def metric_columns(experiment: str, runs: list) -> list[str]:
    present = {k for r in runs for k in r.data.metrics}
    if experiment in HEADLINE:
        return [k for k in HEADLINE[experiment] if k in present]
    counts = {k: sum(k in r.data.metrics for r in runs) for k in present}
    return sorted(present, key=lambda k: (-counts[k], k))[:OTHER_METRICS]


def champion_runs(client) -> dict[str, str]:
    """run id -> 'ganaudio-x vN' for every registered model version holding the `champion` alias."""
    from mlflow.exceptions import MlflowException

    from ganaudio.orchestration.promotion import ALIAS

    out = {}
    for model in client.search_registered_models():
        try:
            version = client.get_model_version_by_alias(model.name, ALIAS)
        except MlflowException:
            continue
        if version.run_id:
            out[version.run_id] = f"{model.name} v{version.version}"
    return out


def print_runs(experiment: str, limit: int = 10, tracking_uri: Optional[str] = None, console=None) -> None:
    """A rich table of the `limit` most recent runs of `experiment`."""
    from rich.console import Console
    from rich.table import Table

    from ganaudio.utils.tracking import DEFAULT_TRACKING_URI, import_mlflow

    import_mlflow()
    from mlflow import MlflowClient

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        known = ", ".join(e.name for e in client.search_experiments()) or "none"
        raise ValueError(f"no MLflow experiment {experiment!r} in {uri} (experiments: {known}); "
                         f"run the pipeline first or set MLFLOW_TRACKING_URI")
    runs = list(client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"], max_results=limit))
    params = differing_params(runs)
    metrics = metric_columns(experiment, runs)
    champions = champion_runs(client)

    table = Table(title=f"{experiment}: {len(runs)} most recent runs ({uri})")
    for i, col in enumerate(["run", "name / stage", "started", "status", *params, *metrics, "champion"]):
        table.add_column(col, overflow="fold", no_wrap=i < 4)
    for r in runs:
        tags = r.data.tags
        started = dt.datetime.fromtimestamp(r.info.start_time / 1000).strftime("%Y-%m-%d %H:%M") if r.info.start_time else ""
        name = tags.get("mlflow.runName", "")
        stage = tags.get("ganaudio.stage") or tags.get("ganaudio.flow") or ""
        table.add_row(
            r.info.run_id[:8],
            name if stage in ("", name) else f"{name} ({stage})",
            started,
            r.info.status,
            *(r.data.params.get(k, MISSING) for k in params),
            *(f"{r.data.metrics[k]:.4g}" if k in r.data.metrics else MISSING for k in metrics),
            f"★ {champions[r.info.run_id]}" if r.info.run_id in champions else "",
        )
    (console or Console()).print(table)
