"""The pipeline and retrain flows on a tiny workspace: real stages through DVC, runs in MLflow.

PianoGAN's half of the DAG (fetch_maestro, notes, train, render, eval) on the debug preset: about
a minute on 2 cores. The tests run in file order and share one workspace and its MLflow store.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from ganaudio.orchestration import promotion
from ganaudio.orchestration.tracking import stage_runs

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

PIANO_STAGES = ["fetch_maestro", "notes", "train_pianogan", "render_pianogan", "eval_pianogan"]


@pytest.fixture
def client(flow_ws, tracking):
    from ganaudio.orchestration.tracking import client_for

    tracking(f"sqlite:///{flow_ws / 'mlflow.db'}")
    return client_for(flow_ws)


def test_pipeline_runs_the_stages_in_order_under_one_parent_run(flow_ws, client):
    from flows.pipeline import pipeline

    result = pipeline(gan="pianogan", workspace=str(flow_ws), fetch_retries=0)
    assert list(result["ran"]) == PIANO_STAGES and all(result["ran"].values())
    assert (flow_ws / "reports/pianogan/metrics.json").exists()

    parent = client.get_run(result["mlflow_run_id"])
    assert parent.info.status == "FINISHED"
    assert client.get_experiment(parent.info.experiment_id).name == "pipeline"
    assert "pianogan/structure_score" in parent.data.metrics
    children = stage_runs(client, parent.info.run_id)
    assert [r.data.tags["ganaudio.stage"] for r in children] == PIANO_STAGES
    assert {client.get_experiment(r.info.experiment_id).name for r in children} == {"data", "pianogan"}
    # The train stage registered the generator from its own run: what retrain will judge.
    version = promotion.candidate_version(client, "pianogan", parent.info.run_id)
    train = next(r for r in children if r.data.tags["ganaudio.stage"] == "train_pianogan")
    assert version is not None and version.run_id == train.info.run_id


def test_a_second_run_leaves_everything_to_dvc_and_runs_nothing(flow_ws, client):
    from flows.pipeline import pipeline

    result = pipeline(gan="pianogan", workspace=str(flow_ws), fetch_retries=0)
    assert result["ran"] == {s: False for s in PIANO_STAGES}
    assert stage_runs(client, result["mlflow_run_id"]) == []


def test_retrain_refetches_reruns_nothing_unchanged_and_promotes_the_first_model(flow_ws, client):
    from flows.retrain import retrain

    def lock():
        return yaml.safe_load((flow_ws / "dvc.lock").read_text())["stages"]

    before = lock()
    decisions = retrain(workspace=str(flow_ws), gans=["pianogan"], fetch_retries=0)
    # The forced fetch rebuilt the same data (only its timing metric differs): same hashes,
    # so nothing downstream reran and their lock entries are untouched.
    after = lock()
    data = [[o for o in lk["fetch_maestro"]["outs"] if o["path"] == "data/raw/maestro"] for lk in (before, after)]
    assert data[0] and data[0] == data[1]
    assert {s: after[s] for s in PIANO_STAGES[1:]} == {s: before[s] for s in PIANO_STAGES[1:]}
    assert decisions["pianogan"]["promote"] and "no champion" in decisions["pianogan"]["reason"]
    champion = promotion.champion(client, "pianogan")
    assert str(champion.version) == decisions["pianogan"]["version"]
    assert champion.tags["promotion.decision"] == "promoted" and "headline.structure_score" in champion.tags

    retrain_run = client.search_runs([client.get_experiment_by_name("retrain").experiment_id])[0]
    assert retrain_run.data.tags["promotion.pianogan.decision"] == "promoted"
    assert retrain_run.data.tags["promotion.pianogan.reason"] == decisions["pianogan"]["reason"]
    fetch = stage_runs(client, retrain_run.info.run_id)
    assert [r.data.tags["ganaudio.stage"] for r in fetch] == ["fetch_maestro"]
    # The pipeline's own parent run hangs under the retrain run.
    pipeline_runs = client.search_runs([client.get_experiment_by_name("pipeline").experiment_id],
                                       filter_string=f"tags.mlflow.parentRunId = '{retrain_run.info.run_id}'")
    assert len(pipeline_runs) == 1
    assert stage_runs(client, pipeline_runs[0].info.run_id) == []


def test_a_failing_stage_fails_the_flow_and_its_mlflow_run(tmp_path, tracking, empty_mlflow_db):
    from flows.pipeline import pipeline
    from ganaudio.orchestration.dvc import DvcError
    from ganaudio.orchestration.tracking import client_for

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "dvc.yaml").write_text("stages:\n  broken:\n    cmd: python -c \"raise SystemExit('boom')\"\n")
    shutil.copy(empty_mlflow_db, tmp_path / "mlflow.db")
    tracking(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(DvcError, match="boom"):
        pipeline(gan="all", workspace=str(tmp_path))
    client = client_for(tmp_path)
    [run] = client.search_runs([client.get_experiment_by_name("pipeline").experiment_id])
    assert run.info.status == "FAILED"
