"""Prefect flow: the DVC pipeline stage by stage, one Prefect task per stage, one MLflow parent run.

    python -m flows.pipeline --gan pianogan|spectogan|wavegan|all|data [--workspace DIR] [--target STAGE ...]

The stage order comes from dvc.yaml (ganaudio.orchestration.dag); each task runs
`dvc repro --single-item <stage>`, so DVC still skips what is up to date. Stage runs are tagged
`mlflow.parentRunId` = this flow's run in the `pipeline` experiment, which is named
`<gan>-<commit>-<time>` and records the resolved params, the headline metrics and `stages.json`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from ganaudio.config import check_params
from ganaudio.metrics.headline.rules import describe
from ganaudio.orchestration import dag, dvc, tracking
from ganaudio.orchestration.prefect_settings import flow_settings


@task(name="dvc-repro", task_run_name="{stage}", cache_policy=NO_CACHE)
def repro(stage: str, workspace: str, parent_run_id: Optional[str] = None, force: bool = False) -> bool:
    """One stage through DVC, its output streamed into the run log. True when DVC ran it."""
    logger = get_run_logger()
    env = dvc.stage_env(workspace, parent_run_id)
    return dvc.repro_stage(stage, workspace, env, force=force, on_line=logger.info)


FETCH_RETRIES = 3
FETCH_BACKOFF_S = 10.0


def repro_task(stage: str, fetch_retries: int = FETCH_RETRIES, fetch_backoff_s: float = FETCH_BACKOFF_S):
    """The task for a stage. Fetch stages talk to the network: retried with growing waits (10, 20, 40 s, jittered)."""
    if stage not in dag.FETCH_STAGES or fetch_retries <= 0:
        return repro
    return repro.with_options(retries=fetch_retries, retry_jitter_factor=0.5,
                              retry_delay_seconds=exponential_backoff(backoff_factor=fetch_backoff_s))


@flow(name="ganaudio-pipeline", flow_run_name="pipeline-{gan}")
def pipeline(gan: str = "all", workspace: str = ".", targets: Optional[list[str]] = None,
             parent_run_id: Optional[str] = None, fetch_retries: int = FETCH_RETRIES) -> dict:
    """Run the stages `gan` needs in order; returns {'mlflow_run_id': ..., 'ran': {stage: bool}}."""
    check_params(Path(workspace) / "params.yaml")  # a bad params.yaml fails here, before DVC deletes any output
    logger = get_run_logger()
    ws = str(Path(workspace).resolve())
    stages = dag.plan(Path(ws) / "dvc.yaml", gan, targets)
    logger.info("stages: %s", " -> ".join(stages))
    client = tracking.client_for(ws)
    with tracking.flow_run(client, ws, "pipeline", tracking.run_name(gan, ws), {"ganaudio.gan": gan},
                           parent_run_id=parent_run_id) as run_id:
        tracking.log_pipeline_params(client, run_id, ws, stages)
        ran = {}
        # Called, not submitted: one stage at a time, since DVC locks the workspace.
        for stage in stages:
            ran[stage] = repro_task(stage, fetch_retries)(stage, ws, run_id)
            if ran[stage]:
                tracking.stamp_lock_hash(client, run_id, stage, ws)
        headlines = tracking.record_pipeline(client, run_id, ws, ran)
    for g, values in headlines.items():
        logger.info("%s headline: %s", g, describe(g, values))
    logger.info("MLflow parent run %s (experiment 'pipeline'); ran: %s", run_id,
                ", ".join(s for s, r in ran.items() if r) or "nothing, all up to date")
    return {"mlflow_run_id": run_id, "ran": ran}


def main(argv: Optional[list[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m flows.pipeline", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gan", default="all", choices=[*dag.TARGETS, "all"])
    ap.add_argument("--workspace", default=".", help="project root holding dvc.yaml (default: .)")
    ap.add_argument("--target", action="append", help="run only these stages and what they need (repeatable)")
    args = ap.parse_args(argv)
    with flow_settings():
        pipeline(gan=args.gan, workspace=args.workspace, targets=args.target)


if __name__ == "__main__":
    main()
