"""The stage DAG read from dvc.yaml, so flows run stages in the order DVC would.

An edge a -> b exists when a dep of b is an output (outs, metrics or plots) of a, or lies
inside / contains one; that is how DVC itself links stages. Ties are broken by the order
stages appear in dvc.yaml, so the plan is stable and reads like the file.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Optional

import yaml

FETCH_STAGES = ("fetch_maestro", "fetch_sc09")
# What each `--gan` choice must end with; their ancestors come along.
TARGETS = {
    "data": ("notes", "mels", "waves"),
    "pianogan": ("render_pianogan", "eval_pianogan"),
    "spectogan": ("render_spectogan", "eval_spectogan"),
    "wavegan": ("render_wavegan", "eval_wavegan"),
}
GANS = ("pianogan", "spectogan", "wavegan")


class DagError(ValueError):
    pass


def load_stages(dvc_yaml: str | os.PathLike = "dvc.yaml") -> dict[str, dict]:
    """Stage name -> {'deps', 'outs' (outs, metrics and plots), 'metrics', 'params'} in file order.

    'params' holds the params.yaml keys the stage lists (a section or a dotted key).
    """
    path = Path(dvc_yaml)
    if not path.exists():
        raise DagError(f"{path}: not found; pass --workspace pointing at the project root")
    raw = yaml.safe_load(path.read_text()) or {}
    stages = {}
    for name, body in (raw.get("stages") or {}).items():
        if "foreach" in body or "matrix" in body:
            raise DagError(f"{path}: stage '{name}' uses foreach/matrix, which this planner does not expand")
        outs = [_path(o) for key in ("outs", "metrics", "plots") for o in body.get(key) or []]
        stages[name] = {"deps": [_path(d) for d in body.get("deps") or []], "outs": outs,
                        "metrics": [_path(m) for m in body.get("metrics") or []],
                        "params": _params(body.get("params") or [])}
    return stages


def _params(entries: list) -> list[str]:
    # "section.key", or {"file.yaml": [keys]}: only params.yaml is resolved into ganaudio's config.
    out = []
    for e in entries:
        if isinstance(e, dict):
            out += [str(k) for k in e.get("params.yaml") or []]
        else:
            out.append(str(e))
    return out


def gan_outputs(stages: dict[str, dict], gan: str) -> dict[str, Optional[str]]:
    """Where dvc.yaml puts a GAN's model folder (train_<gan>'s first out) and metrics (eval_<gan>'s)."""
    train, evaluate = stages.get(f"train_{gan}"), stages.get(f"eval_{gan}")
    return {"model": train["outs"][0] if train and train["outs"] else None,
            "metrics": evaluate["metrics"][0] if evaluate and evaluate["metrics"] else None}


def params_of(stages: dict[str, dict], names) -> list[str]:
    """The params.yaml keys the given stages list, each once, in stage order."""
    return list(dict.fromkeys(p for n in names for p in stages[n]["params"]))


def _path(entry) -> str:
    # An entry is either "path" or {"path": {options}}.
    return next(iter(entry)) if isinstance(entry, dict) else str(entry)


def _overlaps(a: str, b: str) -> bool:
    pa, pb = PurePosixPath(os.path.normpath(a)), PurePosixPath(os.path.normpath(b))
    return pa == pb or pa in pb.parents or pb in pa.parents


def edges(stages: dict[str, dict]) -> dict[str, set[str]]:
    """Stage -> the stages it depends on directly."""
    upstream = {name: set() for name in stages}
    for name, body in stages.items():
        for dep in body["deps"]:
            for other, ob in stages.items():
                if other != name and any(_overlaps(dep, out) for out in ob["outs"]):
                    upstream[name].add(other)
    return upstream


def ancestors(upstream: dict[str, set[str]], targets: list[str] | tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    todo = list(targets)
    while todo:
        stage = todo.pop()
        if stage in seen:
            continue
        seen.add(stage)
        todo.extend(upstream[stage])
    return seen


def plan(dvc_yaml: str | os.PathLike = "dvc.yaml", gan: str = "all",
         targets: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """Stages to run, in topological order, for `gan` (data | pianogan | spectogan | wavegan | all) or explicit targets."""
    stages = load_stages(dvc_yaml)
    upstream = edges(stages)
    if targets is None:
        if gan == "all":
            targets = list(stages)
        elif gan in TARGETS:
            targets = TARGETS[gan]
        else:
            raise DagError(f"unknown --gan {gan!r}; choose one of {sorted([*TARGETS, 'all'])}")
    unknown = [t for t in targets if t not in stages]
    if unknown:
        raise DagError(f"{dvc_yaml}: no stage named {', '.join(unknown)} (stages: {', '.join(stages)})")
    wanted = ancestors(upstream, targets)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(wanted):
        ready = [s for s in stages if s in wanted and s not in done and upstream[s] <= done]
        if not ready:
            raise DagError(f"{dvc_yaml}: cycle among {sorted(wanted - done)}")
        order.append(ready[0])  # the earliest in file order
        done.add(ready[0])
    return order
