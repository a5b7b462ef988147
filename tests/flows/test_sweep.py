"""Sweeps: the grid and commands, and real parallel `dvc exp run --temp` tasks on a local Dask cluster."""

from __future__ import annotations

import pytest

from ganaudio.orchestration import sweep


def test_sets_expand_to_every_combination():
    sets = sweep.parse_sets(["spectogan.train.lr_g=1e-4, 2e-4", "spectogan.model.d=16,32,64"])
    assert sets == {"spectogan.train.lr_g": ["1e-4", "2e-4"], "spectogan.model.d": ["16", "32", "64"]}
    combos = sweep.grid(sets)
    assert len(combos) == 6 and {"spectogan.train.lr_g": "2e-4", "spectogan.model.d": "32"} in combos
    assert sweep.exp_run_args(combos[0], "sweep-x-0", ["eval_spectogan"]) == [
        "exp", "run", "--temp", "--name", "sweep-x-0",
        "-S", "++spectogan.train.lr_g=1e-4", "-S", "++spectogan.model.d=16", "eval_spectogan"]
    names = sweep.exp_names(3)
    assert len(set(names)) == 3
    with pytest.raises(ValueError, match="expected KEY=V1"):
        sweep.parse_sets(["spectogan.train.lr_g"])


def test_summary_keeps_our_experiments_and_the_metrics_that_differ():
    def exp(name, clips, seconds):
        return {"rev": name, "name": name, "data": {
            "params": {"params.yaml": {"data": {"fetch_sc09": {"embedded": {"clips": clips}}, "seed": 0}}},
            "metrics": {"reports/m.json": {"data": {"clips": clips, "seconds": seconds, "source": "embedded"}},
                        "reports/missing.json": {"error": {"type": "FileNotFoundError"}}}}}
    shown = [{"rev": "workspace", "experiments": None},
             {"rev": "abc", "experiments": [{"revs": [exp("a", 30, 1.0)]}, {"revs": [exp("b", 40, 1.0)]},
                                             {"revs": [exp("someone-else", 50, 2.0)]}]}]
    found = sweep.experiments(shown, ["a", "b"])
    assert set(found) == {"a", "b"}
    header, rows = sweep.table_rows(found, ["fetch_sc09.embedded.clips"])
    assert header == ["experiment", "fetch_sc09.embedded.clips", "m:clips"]
    assert rows == [["a", "30", "30"], ["b", "40", "40"]]


def test_where_reports_no_dask_worker_outside_dask():
    from flows.sweep import where

    assert where()["dask_worker"] is None


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_sweep_runs_real_experiments_in_parallel_on_dask_workers(flow_ws, tracking):
    from flows.sweep import make_runner, sweep_flow

    tracking(f"sqlite:///{flow_ws / 'mlflow.db'}")
    # The cheapest real stage: two sizes of the generated SC09 set; no MLflow runs for the experiments.
    sets = {"fetch_sc09.embedded.clips": ["30", "40"], "runtime.mlflow": ["false"]}
    result = sweep_flow.with_options(task_runner=make_runner("dask", workers=2))(
        sets=sets, workspace=str(flow_ws), targets=["fetch_sc09"])
    records = result["records"]
    assert len(records) == 2
    # in parallel: the second experiment started before the first had finished
    assert max(r["started"] for r in records) < min(r["finished"] for r in records), records
    assert all(r["dask_worker"] and r["dask_worker"].startswith(("inproc://", "tcp://")) for r in records), records
    assert result["header"][:2] == ["experiment", "fetch_sc09.embedded.clips"]
    by_clips = {row[1]: row for row in result["rows"]}
    assert set(by_clips) == {"30", "40"}
    col = result["header"].index("data/fetch_sc09:clips")
    assert {row[col] for row in result["rows"]} == {"30", "40"}  # each experiment really ran with its value
