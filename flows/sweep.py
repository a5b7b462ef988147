"""Prefect flow: a parameter sweep as parallel DVC experiments on a Dask (or thread) task runner.

    python -m flows.sweep --gan spectogan --set spectogan.train.lr_g=1e-4,2e-4 [--set KEY=V1,V2 ...]
                          [--runner dask|thread] [--workers N] [--dask-address tcp://...]

One task per combination runs `dvc exp run --temp -S ++KEY=V ...` in its own temporary copy of
the workspace (no contention for the workspace's DVC lock); the results are then listed from
`dvc exp show`. `--dask-address` sends the tasks to an existing Dask cluster instead of a local one.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from ganaudio.orchestration import dag, dvc, sweep
from ganaudio.orchestration.prefect_settings import flow_settings


def make_runner(kind: str = "dask", workers: int = 2, address: Optional[str] = None):
    """A Prefect task runner. Dask workers are threads by default: each task is a `dvc` subprocess."""
    if kind == "thread":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind != "dask":
        raise ValueError(f"--runner {kind!r}: choose dask or thread")
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": False,
                                          "dashboard_address": None})


def where() -> dict:
    """Which Dask worker (if any) and thread this code runs on."""
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = None
    return {"dask_worker": worker, "thread": threading.current_thread().name}


@task(name="dvc-exp-run", task_run_name="{name}", cache_policy=NO_CACHE)
def run_experiment(combo: dict[str, str], name: str, workspace: str, targets: list[str]) -> dict:
    logger = get_run_logger()
    started = time.time()
    # Stage runs of a sweep get no MLflow parent: they are compared through `dvc exp show`.
    env = dvc.stage_env(workspace)
    dvc.run_dvc(sweep.exp_run_args(combo, name, targets), workspace, env, logger.info, exclusive=False)
    return {"name": name, "params": combo, **where(), "started": started, "finished": time.time()}


@flow(name="ganaudio-sweep")
def sweep_flow(sets: dict[str, list[str]], gan: str = "spectogan", workspace: str = ".",
               targets: Optional[list[str]] = None) -> dict:
    """Run every combination of `sets` as a DVC experiment; returns the task records and the exp show rows."""
    logger = get_run_logger()
    ws = str(Path(workspace).resolve())
    targets = list(targets or dag.TARGETS.get(gan, ()))
    combos = sweep.grid(sets)
    names = sweep.exp_names(len(combos))
    logger.info("%d experiments on %s", len(combos), ", ".join(targets) or "the whole pipeline")
    futures = [run_experiment.submit(c, n, ws, targets) for c, n in zip(combos, names)]
    records = [f.result() for f in futures]
    shown = json.loads(dvc.capture(["exp", "show", "--no-pager", "--json"], ws, dvc.stage_env(ws)))
    found = sweep.experiments(shown, names)
    header, rows = sweep.table_rows(found, list(sets))
    return {"records": records, "header": header, "rows": rows}


def print_table(header: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dvc exp show (this sweep)")
    for i, col in enumerate(header):
        table.add_column(col, overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def main(argv: Optional[list[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m flows.sweep", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gan", default="spectogan", choices=[*dag.TARGETS, "all"])
    ap.add_argument("--set", action="append", required=True, metavar="KEY=V1,V2", help="repeatable")
    ap.add_argument("--target", action="append", help="stages to run (default: the GAN's render and eval)")
    ap.add_argument("--workspace", default=".")
    ap.add_argument("--runner", default="dask", choices=["dask", "thread"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask-address", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    args = ap.parse_args(argv)
    try:
        sets = sweep.parse_sets(args.set)
    except ValueError as e:
        ap.error(str(e))
    runner = make_runner(args.runner, args.workers, args.dask_address)
    with flow_settings():
        result = sweep_flow.with_options(task_runner=runner)(sets=sets, gan=args.gan, workspace=args.workspace,
                                                             targets=args.target)
    print_table(result["header"], result["rows"])


if __name__ == "__main__":
    main()
