"""What every stage entry point repeats: arguments for params and logging, a tracked run, and
`run(main)`, which turns expected errors into one line on stderr (exit code 2)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from pathlib import Path
from typing import Callable, Iterator

from ganaudio.config import Params, flatten, load_params, to_dict
from ganaudio.errors import run_main
from ganaudio.utils.io import write_bytes
from ganaudio.utils.logs import setup_logging
from ganaudio.tracking import Tracker, start_run


def parser(doc: str | None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    return ap


def load(args: argparse.Namespace, sections: list[str]) -> Params:
    """The params.yaml sections this stage reads, as typed config (others stay None, their modules
    unimported), with its runtime (threads, device) applied to this process."""
    from ganaudio.utils.device import apply_runtime

    setup_logging()
    record_imports_at_exit()
    params = load_params(args.params, sections=sections)
    apply_runtime(params.runtime)
    return params


IMPORTS_ENV = "GANAUDIO_RECORD_IMPORTS"


def record_imports_at_exit() -> None:
    """With GANAUDIO_RECORD_IMPORTS=<dir>, write <dir>/<stage>.json at exit: the repo's source
    files this stage process loaded. The smoke test checks them against the stage's dvc.yaml deps."""
    import atexit
    import os

    folder = os.environ.get(IMPORTS_ENV)
    if not folder:
        return

    def write() -> None:
        import json
        import sys
        from pathlib import Path

        root = Path.cwd().resolve()
        files = set()
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if path and Path(path).resolve().is_relative_to(root):
                files.add(Path(path).resolve().relative_to(root).as_posix())
        stage = os.environ.get("DVC_STAGE") or Path(sys.argv[0]).stem
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{stage}.json").write_text(json.dumps(sorted(files)))

    atexit.register(write)


@contextlib.contextmanager
def tracked(params: Params, experiment: str, stage: str, sections: list[str]) -> Iterator[Tracker]:
    """An MLflow run for this stage logging the resolved config of the sections it reads."""
    logged = {s: to_dict(functools.reduce(getattr, s.split("."), params)) for s in sections}  # "pianogan.peer" too
    with start_run(experiment, stage, flatten(logged), enabled=params.runtime.mlflow) as tracker:
        yield tracker


def copy_losses(model_dir: Path, dest: Path) -> None:
    """The training log (model_dir/metrics.csv) beside the metrics JSONs, for `dvc plots`: see dvc.yaml."""
    write_bytes(dest, (Path(model_dir) / "metrics.csv").read_bytes())


def run(main: Callable[[], object]) -> None:
    """A stage's `__main__`: expected errors (ganaudio.errors) as one line, exit code 2; others keep
    their traceback. GANAUDIO_DEBUG=1 shows the traceback of expected errors too."""
    sys.exit(run_main(main, f"stages.{Path(sys.argv[0]).stem}"))
