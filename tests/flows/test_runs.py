"""`ganaudio runs`: differing params only, headline metrics, the champion marker."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from ganaudio.runs import print_runs


def render(uri: str, experiment: str, limit: int = 10) -> str:
    out = io.StringIO()
    print_runs(experiment, limit, tracking_uri=uri, console=Console(file=out, width=300, color_system=None))
    return out.getvalue()


def row(text: str, run_name: str) -> str:
    return next(line for line in text.splitlines() if f" {run_name} " in line)


def test_table_shows_differing_params_headline_metrics_and_the_champion(mlflow_store):
    client = mlflow_store.client
    exp = mlflow_store.experiment("spectogan")
    ids = {}
    for i, (name, lr, fid) in enumerate([("run-a", "0.0001", 31.5), ("run-b", "0.0002", 22.25), ("run-c", "0.0004", 40.0)]):
        run = client.create_run(exp, run_name=name, start_time=1_700_000_000_000 + 60_000 * i,
                                tags={"ganaudio.stage": "train_spectogan"})
        client.log_param(run.info.run_id, "spectogan.train.lr_g", lr)
        client.log_param(run.info.run_id, "spectogan.train.batch_size", "64")
        client.log_metric(run.info.run_id, "fid", fid)
        client.log_metric(run.info.run_id, "adv/critic_loss", 0.5)
        client.set_terminated(run.info.run_id)
        ids[name] = run.info.run_id
    client.create_registered_model("ganaudio-spectogan")
    v = client.create_model_version("ganaudio-spectogan", source="x", run_id=ids["run-b"]).version
    client.set_registered_model_alias("ganaudio-spectogan", "champion", v)

    text = render(mlflow_store.uri, "spectogan")
    assert "spectogan.train.lr_g" in text and "batch_size" not in text  # same in every run: hidden
    assert "fid" in text and "critic_loss" not in text                  # headline metrics only
    assert "0.0002" in row(text, "run-b") and "22.25" in row(text, "run-b")
    assert "★ ganaudio-spectogan v1" in row(text, "run-b")
    assert "★" not in row(text, "run-a") and "★" not in row(text, "run-c")
    # Newest first, and the limit applies.
    assert text.index("run-c") < text.index("run-a")
    limited = render(mlflow_store.uri, "spectogan", limit=2)
    assert "run-a" not in limited and "run-c" in limited


def test_unknown_experiment_is_a_clear_error(mlflow_store):
    mlflow_store.experiment("data")
    with pytest.raises(ValueError, match="no MLflow experiment 'nope'.*experiments: .*data"):
        render(mlflow_store.uri, "nope")
