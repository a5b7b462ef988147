"""Portable tracking: a pipeline run against a real `mlflow server --serve-artifacts` over loopback.

The server runs from its own folder, as a teammate's would on another host: every artifact must
travel through its HTTP artifact API (`mlflow-artifacts:/` URIs), none may land beside the
workspace, and each one must come back byte for byte through the server.
"""

from __future__ import annotations

import filecmp
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ganaudio.orchestration.pipeline_run import STAGES_ARTIFACT, stage_runs

STARTUP_S = 180  # the server imports MLflow and migrates a fresh database: slow on a loaded machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tracking_server(tmp_path):
    """`mlflow server --serve-artifacts` on 127.0.0.1, started in a folder of its own."""
    home = tmp_path / "server"
    home.mkdir()
    port = free_port()
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}", "--serve-artifacts",
         "--artifacts-destination", str(home / "artifacts")],
        cwd=home, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=5)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"mlflow server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
    try:
        yield url, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_pipeline_runs_artifacts_download_through_the_server(tracking_server, tmp_path, workspace_tools, tracking):
    from mlflow import MlflowClient

    from flows.pipeline import pipeline

    url, server_home = tracking_server
    ws = workspace_tools.make(tmp_path / "ws")
    tracking(url)
    # The cheapest stages that log artifacts: the notes stage's plots.
    result = pipeline(gan="data", workspace=str(ws), targets=["notes"], fetch_retries=0)
    assert result["ran"] == {"fetch_maestro": True, "notes": True}

    client = MlflowClient(tracking_uri=url)
    parent = client.get_run(result["mlflow_run_id"])
    [notes] = [r for r in stage_runs(client, parent.info.run_id) if r.data.tags["ganaudio.stage"] == "notes"]
    for run in (parent, notes):
        assert run.info.artifact_uri.startswith("mlflow-artifacts:/"), run.info.artifact_uri
    assert not (ws / "mlruns").exists()  # nothing written beside the workspace

    fetched = tmp_path / "fetched"
    fetched.mkdir()
    client.download_artifacts(notes.info.run_id, "plots", str(fetched))
    local = ws / "reports/data/notes"
    names = sorted(p.name for p in local.iterdir())
    assert names and sorted(p.name for p in (fetched / "plots").iterdir()) == names
    assert all(filecmp.cmp(local / n, fetched / "plots" / n, shallow=False) for n in names)
    table = client.download_artifacts(parent.info.run_id, STAGES_ARTIFACT, str(fetched))
    assert notes.info.run_id in open(table).read()
    # And they live where the server keeps artifacts.
    assert any(server_home.joinpath("artifacts").rglob(names[0]))


def test_local_stores_keep_each_experiments_artifacts_in_the_workspace_and_servers_choose(tmp_path, mlflow_store):
    from ganaudio.tracking import artifact_location, ensure_experiment

    assert artifact_location("http://mlflow:5000", "spectogan", tmp_path) is None
    assert artifact_location("https://mlflow.example", "spectogan", tmp_path) is None
    assert artifact_location("sqlite:///mlflow.db", "pipeline", tmp_path) == (tmp_path / "mlruns/pipeline").as_uri()
    # A flow started from another folder still files its runs' artifacts under the workspace.
    exp_id = ensure_experiment(mlflow_store.client, "retrain", tmp_path / "ws")
    assert mlflow_store.client.get_experiment(exp_id).artifact_location == (tmp_path / "ws/mlruns/retrain").as_uri()
    assert ensure_experiment(mlflow_store.client, "retrain", tmp_path / "elsewhere") == exp_id
    mlflow_store.client.delete_experiment(exp_id)
    with pytest.raises(ValueError, match="experiment 'retrain' is deleted; restore it"):
        ensure_experiment(mlflow_store.client, "retrain", tmp_path)
