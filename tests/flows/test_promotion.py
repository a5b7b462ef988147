"""Champion/challenger: the promotion rule both ways, and its MLflow glue on a real sqlite registry."""

from __future__ import annotations

import json
import math

import pytest

from ganaudio.orchestration import promotion
from ganaudio.orchestration.promotion import decide, headline

PIANO = {"headline": {"name": "structure", "score": 0.4, "baseline_score": 0.0, "baseline_std": 0.01, "passed": True}}


def specto(fid: float, is_mean: float) -> dict:
    return {"fid": {"trained": fid, "untrained": 90.0, "real": 1.0},
            "inception_score": {"trained": {"mean": is_mean, "std": 0.1}, "real": {"mean": 9.0, "std": 0.1}}}


def test_headline_reads_the_documented_metrics_shapes(tmp_path):
    assert headline("pianogan", PIANO) == {"structure_score": 0.4}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(specto(20.0, 3.5)))
    assert headline("spectogan", path) == {"fid": 20.0, "inception_score": 3.5}
    assert math.isnan(headline("pianogan", {"headline": {"score": None}})["structure_score"])
    with pytest.raises(ValueError, match=r"old.json: no 'fid.trained'; rerun `dvc repro eval_spectogan`"):
        headline("spectogan", _write(tmp_path / "old.json", {"fid": 3.0}))
    with pytest.raises(FileNotFoundError, match="dvc repro eval_pianogan"):
        headline("pianogan", tmp_path / "missing.json")


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_no_champion_means_promote():
    assert decide("pianogan", {"structure_score": -0.2}, None).promote
    assert "no champion" in decide("spectogan", {"fid": 50.0, "inception_score": 1.0}, None).reason


@pytest.mark.parametrize("new, old, promote", [(0.5, 0.4, True), (0.3, 0.4, False), (0.4, 0.4, False)])
def test_pianogan_promotes_a_higher_structure_score_only(new, old, promote):
    d = decide("pianogan", {"structure_score": new}, {"structure_score": old})
    assert d.promote is promote
    assert "structure_score" in d.reason and f"{new:.4g}" in d.reason


@pytest.mark.parametrize("cand, champ, promote, why", [
    ((18.0, 3.0), (20.0, 4.0), True, "fid"),              # clearly lower FID wins even with a lower IS
    ((22.0, 5.0), (20.0, 4.0), False, "fid"),             # clearly higher FID loses even with a higher IS
    ((20.1, 4.5), (20.0, 4.0), True, "inception_score"),  # FID within 1 %: the higher IS breaks the tie
    ((19.9, 3.5), (20.0, 4.0), False, "inception_score"),  # FID within 1 %: the lower IS keeps the champion
    ((20.0, 4.0), (20.0, 4.0), False, "ties"),
])
def test_spectogan_lower_fid_wins_and_inception_score_breaks_ties(cand, champ, promote, why):
    d = decide("spectogan", {"fid": cand[0], "inception_score": cand[1]}, {"fid": champ[0], "inception_score": champ[1]})
    assert d.promote is promote
    assert d.reason.startswith(why)


def test_a_candidate_without_a_number_never_replaces_the_champion():
    assert not decide("pianogan", {"structure_score": float("nan")}, {"structure_score": 0.1}).promote
    assert not decide("pianogan", {"structure_score": float("nan")}, None).promote


def register(store, gan: str, stage_tags: dict | None = None) -> str:
    """A model version of ganaudio-<gan> made by a fresh run (as the train stage's log_model would)."""
    client = store.client
    run = client.create_run(store.experiment(gan), run_name=f"train_{gan}", tags=stage_tags or {})
    client.set_terminated(run.info.run_id)
    name = promotion.model_name(gan)
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    return client.create_model_version(name, source=f"{run.info.artifact_uri}/generator", run_id=run.info.run_id).version


def test_promote_if_better_moves_the_alias_only_for_a_better_version(mlflow_store):
    client, name = mlflow_store.client, "ganaudio-spectogan"
    v1 = register(mlflow_store, "spectogan")
    assert promotion.promote_if_better(client, "spectogan", v1, specto(20.0, 4.0)).promote
    assert client.get_model_version_by_alias(name, "champion").version == v1

    v2 = register(mlflow_store, "spectogan")
    worse = promotion.promote_if_better(client, "spectogan", v2, specto(30.0, 6.0))
    assert not worse.promote and f"champion: version {v1}" in worse.reason
    assert client.get_model_version_by_alias(name, "champion").version == v1
    tags = client.get_model_version(name, v2).tags
    assert tags["promotion.decision"] == "kept" and tags["promotion.reason"] == worse.reason
    assert float(tags["headline.fid"]) == 30.0

    v3 = register(mlflow_store, "spectogan")
    assert promotion.promote_if_better(client, "spectogan", v3, specto(15.0, 3.0)).promote
    assert client.get_model_version_by_alias(name, "champion").version == v3
    assert client.get_model_version(name, v3).tags["promotion.decision"] == "promoted"
    # Judging the champion again changes nothing.
    assert not promotion.promote_if_better(client, "spectogan", v3, specto(15.0, 3.0)).promote


def test_candidate_is_the_version_this_pipeline_run_trained(mlflow_store):
    client = mlflow_store.client
    parent = client.create_run(mlflow_store.experiment("pipeline")).info.run_id
    other = register(mlflow_store, "pianogan", {"ganaudio.stage": "train_pianogan"})
    ours = register(mlflow_store, "pianogan", {"ganaudio.stage": "train_pianogan", "mlflow.parentRunId": parent})
    register(mlflow_store, "pianogan", {"ganaudio.stage": "train_pianogan"})  # newer, from another run
    assert promotion.candidate_version(client, "pianogan", parent).version == ours
    # No version from this run (training was up to date): the newest never-judged one, then none.
    newest = promotion.candidate_version(client, "pianogan", "no-such-run")
    assert int(newest.version) == int(ours) + 1
    for v in (other, ours, newest.version):
        promotion.promote_if_better(client, "pianogan", v, PIANO)
    assert promotion.candidate_version(client, "pianogan", "no-such-run") is None
    assert promotion.candidate_version(client, "spectogan") is None  # no such registered model


@pytest.mark.slow
def test_a_real_logged_torch_model_links_back_to_its_run(mlflow_store, tmp_path, monkeypatch):
    """What the train stage does: mlflow.pytorch.log_model(..., registered_model_name=...)."""
    import mlflow
    import torch

    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(mlflow_store.uri)
    parent = mlflow_store.client.create_run(mlflow_store.experiment("pipeline")).info.run_id
    mlflow.set_experiment(experiment_id=mlflow_store.experiment("pianogan"))
    with mlflow.start_run(tags={"ganaudio.stage": "train_pianogan", "mlflow.parentRunId": parent}) as run:
        mlflow.pytorch.log_model(torch.nn.Linear(4, 2), name="generator", serialization_format="pickle",
                                 registered_model_name="ganaudio-pianogan")
    version = promotion.candidate_version(mlflow_store.client, "pianogan", parent)
    assert version is not None and version.run_id == run.info.run_id
    assert promotion.promote_if_better(mlflow_store.client, "pianogan", version.version, PIANO).promote
