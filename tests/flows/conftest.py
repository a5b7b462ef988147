"""Fixtures for the flow tests: one Prefect test server per session, one tiny workspace, temp MLflow stores."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

# `flows` is a top-level folder, not part of the installed package; pyproject's pytest
# `pythonpath = ["."]` makes it importable here.
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """Prefect's test harness (a throwaway server and database), started once per test run.

    It takes 7-14 s on an idle machine and much longer on a loaded one, so it gets the flows'
    own generous startup timeout rather than the harness's 30 s (a timeout here errors every
    flow test at once).
    """
    from ganaudio.orchestration.prefect_settings import STARTUP_TIMEOUT_S

    env = {"PREFECT_HOME": str(tmp_path_factory.mktemp("prefect_home")),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from prefect.testing.utilities import prefect_test_harness

    try:
        with prefect_test_harness(server_startup_timeout=STARTUP_TIMEOUT_S):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def flow_ws(tmp_path_factory, workspace_tools):
    """A tiny git+DVC copy of the project shared by the flow tests (flows only add runs and data to it)."""
    return workspace_tools.make(tmp_path_factory.mktemp("flow_ws"))


@pytest.fixture
def tracking(monkeypatch):
    """Point this process's MLflow at a store and restore the environment afterwards."""
    def use(uri: str):
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
        return uri
    return use


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory) -> Path:
    """An MLflow sqlite store with its schema migrated (8 s), copied by each test that needs a fresh one."""
    from ganaudio.tracking import import_mlflow

    path = tmp_path_factory.mktemp("mlflow_template") / "mlflow.db"
    import_mlflow()
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_store(tmp_path, tracking, empty_mlflow_db):
    """An empty sqlite MLflow store in tmp_path and a client on it; artifacts stay in tmp_path too."""
    from ganaudio.tracking import import_mlflow

    shutil.copy(empty_mlflow_db, tmp_path / "mlflow.db")
    uri = tracking(f"sqlite:///{tmp_path / 'mlflow.db'}")
    import_mlflow()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)

    def experiment(name: str) -> str:
        found = client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        return client.create_experiment(name, artifact_location=(tmp_path / "artifacts" / name).as_uri())

    return SimpleNamespace(client=client, uri=uri, experiment=experiment)
