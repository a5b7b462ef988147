"""`ganaudio runs`: the terminal compare view of recent MLflow runs.

One row per pipeline run that ran a stage of the experiment (stage runs grouped by their
`mlflow.parentRunId`), with only the params that differ between the rows, the GAN's headline
metrics, the model version the run left in the workspace and a ★ on the `champion`. A param
that a row does not have (a stage that did not run, a classifier run beside GAN runs) is
unknown there, not a difference. Stage runs started outside
a flow (a plain `dvc repro`) are grouped by the checkpoint they trained or scored. `--stages`
lists the stage runs themselves.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Optional

from ganaudio.errors import BadInputError
from ganaudio.metrics.headline.rules import PROMOTION_PREFIX, RULES

OTHER_METRICS = 4  # for experiments without headline rules: this many metric columns
MISSING = "·"
PIPELINE = "pipeline"
SEARCH_PER_ROW = 12    # stage runs fetched per wanted row (a pipeline run has a handful per experiment)
MAX_SEARCH = 1000


@dataclass
class Row:
    run_id: str
    name: str
    started: Optional[int]  # ms since the epoch
    status: str
    commit: str = ""
    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)  # gan -> model version


# ---------------------------------------------------------------- columns

def differing_params(rows: list) -> list[str]:
    """Param keys with at least two different values among the rows that have them."""
    keys = sorted({k for r in rows for k in _params(r)})
    return [k for k in keys if len({_params(r)[k] for r in rows if k in _params(r)}) > 1]


def _params(row) -> dict:
    return row.params if isinstance(row, Row) else row.data.params


def short_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key's shortest suffix of two or more parts that no other key ends with:
    'spectogan.train.lr_g' -> 'train.lr_g' (a bare 'seed' would not say whose)."""
    out = {}
    for key in keys:
        parts = key.split(".")
        for n in range(min(2, len(parts)), len(parts) + 1):
            tail = ".".join(parts[-n:])
            if not any(o != key and (o == tail or o.endswith("." + tail)) for o in keys):
                out[key] = tail
                break
        else:
            out[key] = key
    return out


def metric_columns(experiment: str, rows: list[Row]) -> list[tuple[str, str, str]]:
    """(gan, metric key, column title) for the headline metrics present in the rows."""
    present = {(g, k) for r in rows for g, values in r.metrics.items() for k in values}
    gans = [experiment] if experiment in RULES else [g for g in RULES if any(p[0] == g for p in present)]
    cols = [(g, m.key, m.label if len(gans) == 1 else f"{g[:5]} {m.label}")
            for g in gans for m in RULES[g].metrics if (g, m.key) in present]
    if cols or experiment in RULES or experiment == PIPELINE:
        return cols
    counts: dict[str, int] = {}
    for r in rows:
        for k in r.metrics.get(experiment, {}):
            counts[k] = counts.get(k, 0) + 1
    return [(experiment, k, k) for k in sorted(counts, key=lambda k: (-counts[k], k))[:OTHER_METRICS]]


# ---------------------------------------------------------------- reading the store

def champion_versions(client) -> dict[str, str]:
    """gan -> the version number holding the `champion` alias of ganaudio-<gan>."""
    from mlflow.exceptions import MlflowException

    from ganaudio.orchestration.promotion import ALIAS, model_name

    out = {}
    for gan in RULES:
        try:
            out[gan] = str(client.get_model_version_by_alias(model_name(gan), ALIAS).version)
        except MlflowException:
            continue
    return out


def registered_versions(client) -> dict[str, tuple[str, str]]:
    """run id -> (gan, version) for every version registered from a run."""
    from mlflow.exceptions import MlflowException

    from ganaudio.orchestration.promotion import model_name

    out = {}
    for gan in RULES:
        try:
            for v in client.search_model_versions(f"name = '{model_name(gan)}'"):
                if v.run_id:
                    out[v.run_id] = (gan, str(v.version))
        except MlflowException:
            continue
    return out


def stage_metrics(gan: str, run) -> dict:
    """A stage run's headline values: the `promotion/<key>` metrics, else same-named plain ones."""
    m = run.data.metrics
    keys = [x.key for x in RULES[gan].metrics] if gan in RULES else list(m)
    return {k: m[PROMOTION_PREFIX + k] if PROMOTION_PREFIX + k in m else m[k]
            for k in keys if PROMOTION_PREFIX + k in m or k in m}


def pipeline_row(run, gan: Optional[str]) -> Row:
    """A pipeline run's row: its params, its `<gan>/<key>` metrics and `ganaudio.version_of.<gan>` tags.

    gan: the GAN whose view this is (its params only, as the run's `ganaudio.params_of.<gan>` tag
    lists them); None for every GAN's metrics and all params.
    """
    from ganaudio.orchestration.pipeline_run import PARAMS_TAG, VERSION_TAG

    tags, params = run.data.tags, dict(run.data.params)
    if gan is not None and tags.get(PARAMS_TAG + gan):
        prefixes = tags[PARAMS_TAG + gan].split(",")
        params = {k: v for k, v in params.items() if any(k == p or k.startswith(p + ".") for p in prefixes)}
    metrics = {}
    for key, value in run.data.metrics.items():
        g, _, name = key.partition("/")
        if g in RULES and g == (gan or g):
            metrics.setdefault(g, {})[name] = value
    versions = {k[len(VERSION_TAG):]: v for k, v in tags.items() if k.startswith(VERSION_TAG)}
    return Row(run.info.run_id, run.info.run_name or "", run.info.start_time, run.info.status,
               tags.get("git.commit", "")[:7], params, metrics, versions)


def grouped_rows(client, experiment_id: str, experiment: str, limit: int) -> tuple[list[Row], int]:
    """One row per pipeline run (or per checkpoint, for stage runs outside a flow); and how many runs fit no row."""
    from ganaudio.tracking import CHECKPOINT_TAG, SCORED_TAG

    runs = client.search_runs([experiment_id], order_by=["attributes.start_time DESC"],
                              max_results=min(MAX_SEARCH, limit * SEARCH_PER_ROW))
    versions = registered_versions(client)
    groups: dict[str, list] = {}
    loose = 0
    for r in runs:
        tags = r.data.tags
        key = tags.get("mlflow.parentRunId") or tags.get(CHECKPOINT_TAG) or tags.get(SCORED_TAG)
        if key is None:
            loose += 1
        else:
            groups.setdefault(key, []).append(r)
    is_gan = experiment in RULES
    rows = []
    for key, members in groups.items():
        members.sort(key=lambda r: r.info.start_time or 0)
        parent = _get_run(client, key)
        if parent is not None:
            row = pipeline_row(parent, experiment if is_gan else None)
            if not is_gan:
                row.metrics = {}
        else:
            last = members[-1]
            row = Row(last.info.run_id, f"{last.info.run_name} (no pipeline run)", last.info.start_time,
                      last.info.status, last.data.tags.get("git.commit", "")[:7])
        for r in members:  # what the stage runs add: params an older parent lacks, metrics, the version
            if parent is None or not parent.data.params:
                for k, v in r.data.params.items():
                    row.params.setdefault(k, v)
            if not is_gan:
                row.metrics.setdefault(experiment, {}).update(r.data.metrics)
            elif not row.metrics.get(experiment) and r.data.tags.get("ganaudio.stage") == f"eval_{experiment}":
                row.metrics[experiment] = stage_metrics(experiment, r)
            if r.info.run_id in versions:
                g, v = versions[r.info.run_id]
                row.versions.setdefault(g, v)
        rows.append(row)
    rows.sort(key=lambda r: r.started or 0, reverse=True)
    return rows[:limit], loose


def _get_run(client, run_id: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException:
        return None  # not a run id: a checkpoint digest


def pipeline_rows(client, experiment_id: str, limit: int) -> list[Row]:
    runs = client.search_runs([experiment_id], order_by=["attributes.start_time DESC"], max_results=limit)
    return [pipeline_row(r, None) for r in runs]


def stage_rows(client, experiment_id: str, experiment: str, limit: int) -> list[Row]:
    versions = registered_versions(client)
    runs = client.search_runs([experiment_id], order_by=["attributes.start_time DESC"], max_results=limit)
    rows = []
    for r in runs:
        stage = r.data.tags.get("ganaudio.stage") or r.data.tags.get("ganaudio.flow") or ""
        row = Row(r.info.run_id, stage or r.info.run_name or "", r.info.start_time,
                  r.info.status, r.data.tags.get("git.commit", "")[:7], dict(r.data.params))
        metrics = stage_metrics(experiment, r)
        if metrics:
            row.metrics[experiment] = metrics
        if r.info.run_id in versions:
            row.versions[versions[r.info.run_id][0]] = versions[r.info.run_id][1]
        rows.append(row)
    return rows


# ---------------------------------------------------------------- the table

def build_table(experiment: str, rows: list[Row], champions: dict[str, str], title: str, caption: str = "",
                names: bool = False):
    """names: a column with each row's run name (the stage, in the per-stage view)."""
    from rich.table import Table

    params = differing_params(rows)
    if len({r.commit for r in rows if r.commit}) > 1:
        params = ["commit", *params]
    titles = short_names([p for p in params if p != "commit"])
    metrics = metric_columns(experiment, rows)
    gans = [experiment] if experiment in RULES else sorted({g for r in rows for g in r.versions})

    table = Table(title=title, caption=caption or None, title_justify="left", caption_justify="left",
                  pad_edge=False)
    table.add_column("run", no_wrap=True)
    if names:
        table.add_column("stage", overflow="ellipsis", max_width=24, no_wrap=True)
    table.add_column("started", no_wrap=True)
    for p in params:
        table.add_column(titles.get(p, p), overflow="ellipsis", max_width=16, no_wrap=True)
    for _, _, label in metrics:
        table.add_column(label, justify="right", no_wrap=True)
    for g in gans:
        table.add_column("model" if len(gans) == 1 else g[:5], no_wrap=True)
    table.add_column("★", no_wrap=True)
    for r in rows:
        started = dt.datetime.fromtimestamp(r.started / 1000).strftime("%m-%d %H:%M") if r.started else ""
        mark = "" if r.status in ("FINISHED", "RUNNING") else f" {r.status[:4].lower()}"
        stars = [g for g in gans if r.versions.get(g) and r.versions.get(g) == champions.get(g)]
        table.add_row(
            r.run_id[:8] + mark,
            *([r.name] if names else []),
            started,
            *(_param_value(r.commit if p == "commit" else r.params.get(p)) for p in params),
            *(_number(r.metrics.get(g, {}).get(k)) for g, k, _ in metrics),
            *(f"v{r.versions[g]}" if g in r.versions else MISSING for g in gans),
            "★" if stars else "",
        )
    return table


def _param_value(value) -> str:
    if value is None:
        return MISSING
    try:
        return f"{float(value):.4g}" if not str(value).lstrip("-").isdigit() else str(value)
    except ValueError:
        return str(value)


def _number(value) -> str:
    return MISSING if value is None else f"{value:.4g}"


def print_runs(experiment: str, limit: int = 10, tracking_uri: Optional[str] = None, console=None,
               stages: bool = False) -> None:
    """The `limit` most recent pipeline runs of `experiment` (or its stage runs, with stages=True)."""
    from rich.console import Console

    from ganaudio.tracking import DEFAULT_TRACKING_URI, import_mlflow

    import_mlflow()
    from mlflow import MlflowClient

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        known = ", ".join(e.name for e in client.search_experiments()) or "none"
        raise BadInputError(f"no MLflow experiment {experiment!r} in {uri} (experiments: {known}); "
                         f"run the pipeline first or set MLFLOW_TRACKING_URI")
    caption = ""
    if stages:
        rows = stage_rows(client, exp.experiment_id, experiment, limit)
        title = f"{experiment}: {len(rows)} most recent stage runs"
    elif experiment == PIPELINE:
        rows = pipeline_rows(client, exp.experiment_id, limit)
        title = f"{experiment}: {len(rows)} most recent pipeline runs"
    else:
        rows, loose = grouped_rows(client, exp.experiment_id, experiment, limit)
        title = f"{experiment}: {len(rows)} most recent pipeline runs"
        if loose:
            caption = f"{loose} stage runs outside any pipeline run not shown (--stages lists them)"
    console = console or Console()
    console.print(build_table(experiment, rows, champion_versions(client), title, caption, names=stages))
    console.print(f"store: {uri}", style="dim")
