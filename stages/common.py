"""What every stage entry point repeats: arguments for params and logging, a tracked run."""

from __future__ import annotations

import argparse
import contextlib
from typing import Iterator

from ganaudio.config import Params, flatten, load_params, to_dict
from ganaudio.utils.logs import setup_logging
from ganaudio.utils.tracking import Tracker, start_run


def parser(doc: str | None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    return ap


def load(args: argparse.Namespace) -> Params:
    """params.yaml as typed config, with its runtime (threads, device) applied to this process."""
    from ganaudio.utils.device import apply_runtime

    setup_logging()
    params = load_params(args.params)
    apply_runtime(params.runtime)
    return params


@contextlib.contextmanager
def tracked(params: Params, experiment: str, stage: str, sections: list[str]) -> Iterator[Tracker]:
    """An MLflow run for this stage logging the resolved config of the sections it reads."""
    logged = {s: to_dict(getattr(params, s.split(".")[0])) for s in sections}
    with start_run(experiment, stage, flatten(logged), enabled=params.runtime.mlflow) as tracker:
        yield tracker
