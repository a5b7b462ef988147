"""`ganaudio runs`: one row per pipeline run, differing params only, headline metrics, model version, ★.

The store is filled as a pipeline flow and its stages fill it (flow_run, log_pipeline_params,
stage runs through start_run, record_pipeline), on a real sqlite MLflow store, with the noise a
real experiment has: train_classifier runs with params of their own, a pipeline run of the
other GAN, a parent from an older version with no params, stage runs outside any flow.
"""

from __future__ import annotations

import io
import json
import shutil

import pytest
import yaml
from rich.console import Console

from ganaudio.metrics.headline.rules import log_headline
from ganaudio.orchestration import dag, promotion
from ganaudio.orchestration.pipeline_run import (STAGES_ARTIFACT, flow_run, log_pipeline_params, record_pipeline,
                                             run_name)
from ganaudio.runs import print_runs, short_names
from ganaudio.tracking import CHECKPOINT_TAG, PARENT_RUN_ENV, file_digest, start_run

from tests.conftest import ROOT


def render(uri: str, experiment: str, width: int = 80, **kw) -> str:
    out = io.StringIO()
    print_runs(experiment, tracking_uri=uri, console=Console(file=out, width=width, color_system=None), **kw)
    return out.getvalue()


def specto(fid: float, is_mean: float) -> dict:
    return {"fid": {"trained": fid, "untrained": 400.0}, "inception_score": {"trained": {"mean": is_mean}}}


class Workspace:
    """A folder with the project's dvc.yaml and a params.yaml, where 'stages' leave reports and checkpoints."""

    def __init__(self, path, client, monkeypatch):
        self.path, self.client, self.mp, self.n = path, client, monkeypatch, 0
        path.mkdir()
        shutil.copy(ROOT / "dvc.yaml", path / "dvc.yaml")
        self.base = yaml.safe_load((ROOT / "params.yaml").read_text())
        monkeypatch.chdir(path)

    def stage(self, gan: str, stage: str, params: dict | None = None):
        return start_run(gan, stage, params)

    def pipeline(self, gan: str, lr_g: str, fid: float, is_mean: float, classifier_epochs: int | None = None):
        """One pipeline run of `gan`; train_classifier runs only when classifier_epochs is given."""
        params = {**self.base, "spectogan": {**self.base["spectogan"], "train": {"lr_g": float(lr_g)}}}
        (self.path / "params.yaml").write_text(yaml.safe_dump(params))
        plan = dag.plan(self.path / "dvc.yaml", gan)
        with flow_run(self.client, self.path, "pipeline", run_name(gan, self.path), {"ganaudio.gan": gan}) as pid:
            log_pipeline_params(self.client, pid, self.path, plan)
            self.mp.setenv(PARENT_RUN_ENV, pid)
            ran = {s: False for s in plan}
            if gan == "spectogan":
                if classifier_epochs is not None:
                    with self.stage(gan, "train_classifier", {"classifier.epochs": classifier_epochs,
                                                              "classifier.lr": 0.001 * classifier_epochs}):
                        ran["train_classifier"] = True
                self.train_and_eval(gan, {"spectogan.train.lr_g": lr_g, "spectogan.train.steps": 4000},
                                    specto(fid, is_mean))
                ran["train_spectogan"] = ran["eval_spectogan"] = True
            self.mp.delenv(PARENT_RUN_ENV)
            record_pipeline(self.client, pid, self.path, ran)
        return pid

    def train_and_eval(self, gan: str, params: dict, metrics: dict) -> str:
        self.n += 1
        checkpoint = self.path / "models" / gan / "checkpoints" / "latest.pt"
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.write_bytes(f"weights {self.n}".encode())
        with self.stage(gan, f"train_{gan}", params) as tracker:
            tracker.set_tags({CHECKPOINT_TAG: file_digest(checkpoint)})
            run_id = tracker.run_id
        name = promotion.model_name(gan)
        if not self.client.search_registered_models(f"name = '{name}'"):
            self.client.create_registered_model(name)
        version = self.client.create_model_version(name, f"runs:/{run_id}/generator", run_id=run_id).version
        with self.stage(gan, f"eval_{gan}", params) as tracker:
            log_headline(tracker, gan, metrics, checkpoint)
        report = self.path / "reports" / gan / "metrics.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(metrics))
        return str(version)


@pytest.fixture
def ws(mlflow_store, tmp_path, monkeypatch):
    return Workspace(tmp_path / "ws", mlflow_store.client, monkeypatch)


def test_two_pipeline_runs_that_differ_in_lr_g_read_at_80_columns(ws, mlflow_store):
    p1 = ws.pipeline("spectogan", "0.0001", 105.8, 4.0, classifier_epochs=30)
    ws.pipeline("pianogan", "0.0001", 0, 0)          # another GAN's run: not a spectogan row
    p2 = ws.pipeline("spectogan", "0.0002", 98.25, 4.4)  # the classifier was up to date
    promotion.promote_if_better(ws.client, "spectogan", "1")
    promotion.promote_if_better(ws.client, "spectogan", "2")  # lower FID: v2 is the champion

    text = render(mlflow_store.uri, "spectogan", width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if "lr_g" in line)
    for title in ("started", "FID", "IS", "model", "★"):
        assert title in header
    # Only lr_g differs: not the classifier's params (one row lacks them), not the same-valued ones.
    assert "epochs" not in text and "steps" not in text and "preset" not in text
    row1 = next(line for line in lines if p1[:8] in line)
    row2 = next(line for line in lines if p2[:8] in line)
    assert "0.0001" in row1 and "105.8" in row1 and "4" in row1 and "v1" in row1 and "★" not in row1
    assert "0.0002" in row2 and "98.25" in row2 and "4.4" in row2 and "v2" in row2 and "★" in row2
    assert lines.index(row2) < lines.index(row1)  # newest first
    assert sum(p1[:8] in line or p2[:8] in line for line in lines) == 2  # two rows, one line each

    wide = render(mlflow_store.uri, "spectogan", width=200)
    assert any("lr_g" in line and "FID" in line and "★" in line for line in wide.splitlines())
    assert render(mlflow_store.uri, "spectogan", width=200, limit=1).count("0.0001") == 0


def test_the_pipeline_run_is_named_and_records_params_metrics_and_its_stage_runs(ws, mlflow_store, tmp_path):
    pid = ws.pipeline("spectogan", "0.0002", 98.25, 4.4, classifier_epochs=30)
    run = ws.client.get_run(pid)
    assert run.info.run_name.startswith("spectogan-nocommit-")  # <gan>-<commit>-<time>; no git here
    assert run.data.params["spectogan.train.lr_g"] == "0.0002"
    assert run.data.params["fetch_sc09.embedded.clips"] == "3200"  # resolved, from the data stages too
    assert not any(k.startswith("pianogan.") for k in run.data.params)
    assert run.data.metrics["spectogan/fid"] == 98.25 and run.data.metrics["spectogan/floor"] == 400.0
    assert run.data.tags["ganaudio.version_of.spectogan"] == "1"
    table = json.loads(open(ws.client.download_artifacts(pid, STAGES_ARTIFACT, str(tmp_path))).read())
    rows = {r[0]: dict(zip(table["columns"], r)) for r in table["data"]}
    assert list(rows) == dag.plan(ws.path / "dvc.yaml", "spectogan")
    train = rows["train_spectogan"]
    assert train["ran"] is True and train["run_name"] == "train_spectogan" and train["experiment"] == "spectogan"
    exp_id = ws.client.get_run(train["run_id"]).info.experiment_id
    assert train["link"] == f"#/experiments/{exp_id}/runs/{train['run_id']}"
    assert rows["fetch_sc09"]["ran"] is False and rows["fetch_sc09"]["status"] == "up to date"


def test_older_parents_and_runs_outside_flows_still_group(ws, mlflow_store):
    client = ws.client
    exp = mlflow_store.experiment("pipeline")
    # A parent from before parents logged params: the stage runs' params stand in.
    old = client.create_run(exp, run_name="pipeline-all").info.run_id
    ws.mp.setenv(PARENT_RUN_ENV, old)
    ws.train_and_eval("spectogan", {"spectogan.train.lr_g": "0.0004"}, specto(150.0, 3.0))
    ws.mp.delenv(PARENT_RUN_ENV)
    # A plain `dvc repro`: no parent; train and eval meet on the checkpoint digest.
    ws.train_and_eval("spectogan", {"spectogan.train.lr_g": "0.0008"}, specto(200.0, 2.5))
    with start_run("spectogan", "render_spectogan"):
        pass
    text = render(mlflow_store.uri, "spectogan", width=120)
    assert "150" in next(line for line in text.splitlines() if old[:8] in line)
    assert any("0.0008" in line and "200" in line for line in text.splitlines())
    assert "1 stage runs outside any pipeline run not shown" in text
    stages = render(mlflow_store.uri, "spectogan", width=120, stages=True)
    assert stages.count("train_spectogan") == 2 and "render_spectogan" in stages


def test_the_pipeline_experiment_shows_every_gan(ws, mlflow_store):
    ws.pipeline("spectogan", "0.0001", 105.8, 4.0)
    text = render(mlflow_store.uri, "pipeline", width=120)
    assert "105.8" in text and "FID" in text


def test_short_names_keep_keys_apart():
    keys = ["spectogan.train.lr_g", "spectogan.model.d", "classifier.d", "spectogan.train.seed",
            "fetch_sc09.embedded.seed", "pianogan.model.d"]
    assert short_names(keys) == {"spectogan.train.lr_g": "train.lr_g", "spectogan.model.d": "spectogan.model.d",
                                 "classifier.d": "classifier.d", "spectogan.train.seed": "train.seed",
                                 "fetch_sc09.embedded.seed": "embedded.seed", "pianogan.model.d": "pianogan.model.d"}


def test_unknown_experiment_is_a_clear_error(mlflow_store):
    mlflow_store.experiment("data")
    with pytest.raises(ValueError, match="no MLflow experiment 'nope'.*experiments: .*data"):
        render(mlflow_store.uri, "nope")
