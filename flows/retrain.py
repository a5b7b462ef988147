"""Prefect flow: scheduled retraining with champion/challenger promotion in MLflow's model registry.

    python -m flows.retrain [--workspace DIR] [--gan pianogan ...]   # one run now
    python -m flows.retrain --serve                                  # a deployment on params.yaml retrain.cron

Each run re-fetches the data (`dvc repro --force` on the fetch stages: an unchanged source gives
the same hashes, so nothing downstream reruns), runs the pipeline flow for each GAN, then
judges the version this run's training registered, by its own evaluation, against the
`champion` alias (ganaudio.orchestration.promotion). No new version: the workspace's model is
judged if it never was (the models `make run` registered), else nothing is.
`--serve` needs a real Prefect server: `prefect server start` and PREFECT_API_URL. The deployment
fixes only the workspace: which GANs to retrain is read from params.yaml at each run, the cron and
its timezone (`retrain.cron`, `retrain.timezone`) when serving starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.pipeline import FETCH_RETRIES, pipeline, repro_task
from ganaudio.config import ConfigError, load_params
from ganaudio.orchestration import dag, promotion
from ganaudio.orchestration.prefect_settings import flow_settings
from ganaudio.orchestration.pipeline_run import client_for, flow_run, run_name

DEPLOYMENT = "scheduled"


@task(name="promote", task_run_name="promote-{gan}", cache_policy=NO_CACHE)
def promote(gan: str, workspace: str, pipeline_run_id: str, retrain_run_id: str) -> dict:
    """Judge the version this pipeline run registered (or the never-judged workspace model); record the
    decision on the version and the flow run."""
    logger = get_run_logger()
    client = client_for(workspace)
    decision, version = promotion.judge_pipeline_run(client, gan, pipeline_run_id)
    verdict = "promoted" if decision.promote else "kept" if version is not None else "nothing new"
    client.set_tag(retrain_run_id, f"promotion.{gan}.decision", verdict)
    client.set_tag(retrain_run_id, f"promotion.{gan}.reason", decision.reason)
    if version is not None:
        client.set_tag(retrain_run_id, f"promotion.{gan}.version", version)
    logger.info("%s: %s", gan, decision.reason)
    return {"promote": decision.promote, "reason": decision.reason, "version": version}


@flow(name="ganaudio-retrain")
def retrain(workspace: str = ".", gans: Optional[list[str]] = None, fetch_retries: int = FETCH_RETRIES) -> dict:
    """Re-fetch, rerun what changed for each GAN, promote better generators. Returns {gan: decision}."""
    logger = get_run_logger()
    ws = str(Path(workspace).resolve())
    gans = gans or load_params(Path(ws) / "params.yaml").retrain.gans
    unknown = [g for g in gans if g not in dag.GANS]
    if unknown:
        raise ValueError(f"retrain.gans: unknown {unknown}; choose from {list(dag.GANS)}")
    dvc_yaml = Path(ws) / "dvc.yaml"
    fetches = [s for s in dag.plan(dvc_yaml, targets=[t for g in gans for t in dag.TARGETS[g]])
               if s in dag.FETCH_STAGES]
    client = client_for(ws)
    decisions = {}
    with flow_run(client, ws, "retrain", run_name("retrain", ws), {"ganaudio.gans": ",".join(gans)}) as run_id:
        for stage in fetches:
            repro_task(stage, fetch_retries)(stage, ws, run_id, force=True)
        for gan in gans:
            result = pipeline(gan=gan, workspace=ws, parent_run_id=run_id, fetch_retries=fetch_retries)
            decisions[gan] = promote(gan, ws, result["mlflow_run_id"], run_id)
    logger.info("retrain done: %s", "; ".join(f"{g}: {d['reason']}" for g, d in decisions.items()))
    return decisions


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.retrain", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace", default=".", help="project root holding dvc.yaml and params.yaml")
    ap.add_argument("--gan", action="append", choices=dag.GANS,
                    help="default: params.yaml retrain.gans, read at each run")
    ap.add_argument("--serve", action="store_true", help="serve a deployment on retrain.cron until stopped")
    args = ap.parse_args(argv)
    ws = str(Path(args.workspace).resolve())
    if not args.serve:
        with flow_settings():
            retrain(workspace=ws, gans=args.gan)
        return 0
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        print("flows.retrain --serve: no Prefect server; run `prefect server start` and set "
              "PREFECT_API_URL=http://127.0.0.1:4200/api", file=sys.stderr)
        return 2
    retrain.serve(name=DEPLOYMENT, schedule=schedule(Path(ws) / "params.yaml"),
                  parameters={"workspace": ws, **({"gans": args.gan} if args.gan else {})})
    return 0


def schedule(params_yaml: Path):
    """The deployment's schedule: `retrain.cron` in `retrain.timezone` (an IANA name such as Europe/Berlin)."""
    import zoneinfo

    from prefect.schedules import Cron

    cfg = load_params(params_yaml).retrain
    try:
        zoneinfo.ZoneInfo(cfg.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{params_yaml}: 'retrain.timezone' is {cfg.timezone!r}, not a time zone; "
                          f"use an IANA name such as UTC or Europe/Berlin") from None
    return Cron(cfg.cron, timezone=cfg.timezone)


if __name__ == "__main__":
    sys.exit(main())
