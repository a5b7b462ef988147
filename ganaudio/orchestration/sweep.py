"""Parameter sweeps as DVC experiments: the grid, the `dvc exp run` commands, the summary table.

Each combination runs as `dvc exp run --temp`: in its own temporary copy of the workspace, so
several run at once without contending for the workspace's DVC lock.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any, Iterable

from ganaudio.config import flatten


def parse_sets(items: Iterable[str]) -> dict[str, list[str]]:
    """['spectogan.train.lr_g=1e-4,2e-4'] -> {'spectogan.train.lr_g': ['1e-4', '2e-4']}."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key or not values:
            raise ValueError(f"--set {item!r}: expected KEY=V1[,V2...], e.g. spectogan.train.lr_g=1e-4,2e-4")
        out[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return out


def grid(sets: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the values, one dict per experiment."""
    keys = list(sets)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(sets[k] for k in keys))]


def exp_names(n: int, prefix: str = "sweep") -> list[str]:
    # Experiment names are git refs and must be unique in the repo: stamp them.
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return [f"{prefix}-{stamp}-{i}" for i in range(n)]


def exp_run_args(combo: dict[str, str], name: str, targets: Iterable[str] = ()) -> list[str]:
    args = ["exp", "run", "--temp", "--name", name]
    for key, value in combo.items():
        args += ["-S", f"++{key}={value}"]  # ++: also keys params.yaml leaves out
    return [*args, *targets]


def _numbers(tree: Any) -> dict[str, float]:
    return {k: float(v) for k, v in flatten(tree).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))}


def experiments(exp_show: list[dict], names: Iterable[str]) -> dict[str, dict]:
    """From `dvc exp show --json`: name -> {'params': {...}, 'metrics': {...}} (flattened) for `names`.

    Metric keys read `<file without reports/ and .json>:<key>`, e.g. `spectogan/metrics:fid.trained`.
    """
    wanted, found = set(names), {}
    for baseline in exp_show:
        for exp in baseline.get("experiments") or []:
            for rev in exp.get("revs") or []:
                if rev.get("name") not in wanted:
                    continue
                data = rev.get("data") or {}
                params = {k: v for f in (data.get("params") or {}).values() for k, v in flatten(f.get("data") or {}).items()}
                metrics = {}
                for path, body in (data.get("metrics") or {}).items():
                    label = path.removeprefix("reports/").removesuffix(".json")  # a narrower column
                    metrics.update({f"{label}:{k}": v for k, v in _numbers(body.get("data") or {}).items()})
                found[rev["name"]] = {"params": params, "metrics": metrics}
    return found


def table_rows(found: dict[str, dict], swept: Iterable[str]) -> tuple[list[str], list[list[str]]]:
    """Columns: name, the swept params, and the metrics that differ between the experiments."""
    swept = list(swept)
    metric_keys = sorted({k for e in found.values() for k in e["metrics"]})
    if len(found) > 1:
        metric_keys = [k for k in metric_keys if len({e["metrics"].get(k) for e in found.values()}) > 1]
    header = ["experiment", *swept, *metric_keys]
    rows = [[name, *(str(e["params"].get(k, "")) for k in swept),
             *(f"{e['metrics'][k]:.4g}" if k in e["metrics"] else "" for k in metric_keys)]
            for name, e in found.items()]
    return header, rows
