"""Champion/challenger: promote a newly trained generator only when its headline metrics are better.

The rule (`decide`) is pure; `promote_if_better` is the MLflow glue. Each registered model
`ganaudio-<gan>` keeps its best version under the alias `champion`; every version that was
judged carries tags saying why it was or was not promoted, and its headline metrics, so the
next candidate is compared against numbers rather than against a re-evaluation.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

ALIAS = "champion"
TAG_PREFIX = "headline."


@dataclass(frozen=True)
class Rule:
    key: str          # headline name
    path: tuple       # where it sits in reports/<gan>/metrics.json
    higher_is_better: bool


# Primary metric first, then tie-breaks. tie_rel: primaries within this relative difference are a tie.
RULES: dict[str, tuple[list[Rule], float]] = {
    "pianogan": ([Rule("median_gap_closed", ("median_gap_closed",), True)], 0.0),
    # FID from a few hundred clips moves by about a percent between seeds: call that a tie and let IS decide.
    "spectogan": ([Rule("fid", ("fid", "trained"), False),
                   Rule("inception_score", ("inception_score", "trained", "mean"), True)], 0.01),
    "wavegan": ([Rule("fid", ("fid", "trained"), False),
                 Rule("inception_score", ("inception_score", "trained", "mean"), True)], 0.01),
}


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def model_name(gan: str) -> str:
    return f"ganaudio-{gan}"


def _rules(gan: str):
    if gan not in RULES:
        raise ValueError(f"unknown gan {gan!r}; choose one of {sorted(RULES)}")
    return RULES[gan]


def headline(gan: str, metrics_json: dict | str | os.PathLike) -> dict[str, float]:
    """The numbers promotion compares, from reports/<gan>/metrics.json (a path or its parsed dict)."""
    source = "metrics"
    if not isinstance(metrics_json, dict):
        source = str(metrics_json)
        if not Path(metrics_json).exists():
            raise FileNotFoundError(f"{source} not found; run `dvc repro eval_{gan}` first")
        metrics_json = json.loads(Path(metrics_json).read_text())
    out = {}
    for rule in _rules(gan)[0]:
        value = metrics_json
        for part in rule.path:
            if not isinstance(value, dict) or part not in value:
                raise ValueError(f"{source}: no '{'.'.join(rule.path)}'; rerun `dvc repro eval_{gan}` "
                                 f"with the current ganaudio")
            value = value[part]
        out[rule.key] = float("nan") if value is None else float(value)
    return out


def decide(gan: str, candidate: dict, champion: Optional[dict]) -> Decision:
    """Promote when the candidate beats the champion on the primary metric (or ties and wins the tie-break)."""
    rules, tie_rel = _rules(gan)
    first = rules[0]
    if not math.isfinite(candidate.get(first.key, float("nan"))):
        return Decision(False, f"candidate {first.key} is {candidate.get(first.key)}: not a number, keep champion")
    if champion is None:
        return Decision(True, f"no champion yet: promote ({_fmt(candidate, rules)})")
    for i, rule in enumerate(rules):
        new, old = candidate.get(rule.key, float("nan")), champion.get(rule.key, float("nan"))
        if not math.isfinite(old):
            return Decision(True, f"champion has no {rule.key}: promote ({_fmt(candidate, rules)})")
        if not math.isfinite(new):
            return Decision(False, f"candidate {rule.key} is not a number: keep champion")
        tie = tie_rel * abs(old) if i == 0 else 0.0
        better = new > old if rule.higher_is_better else new < old
        word = "higher" if rule.higher_is_better else "lower"
        if abs(new - old) > tie:
            if better:
                return Decision(True, f"{rule.key} {new:.4g} vs champion {old:.4g} ({word} is better): promote")
            return Decision(False, f"{rule.key} {new:.4g} vs champion {old:.4g} ({word} is better): keep champion")
    return Decision(False, f"ties the champion on {', '.join(r.key for r in rules)} "
                           f"({_fmt(candidate, rules)}): keep champion")


def _fmt(values: dict, rules) -> str:
    return ", ".join(f"{r.key} {values.get(r.key, float('nan')):.4g}" for r in rules)


def champion(client, gan: str):
    """The model version holding the `champion` alias, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name(gan), ALIAS)
    except MlflowException:
        return None


def recorded_headline(version) -> Optional[dict[str, float]]:
    """The headline a version was judged on (its `headline.*` tags), or None if it never was."""
    found = {k[len(TAG_PREFIX):]: float(v) for k, v in (version.tags or {}).items() if k.startswith(TAG_PREFIX)}
    return found or None


def promote_if_better(client, gan: str, version: str | int, metrics_json: dict | str | os.PathLike) -> Decision:
    """Judge model version `version` of ganaudio-<gan> against the champion; move the alias if it wins.

    Either way the version gets tags `headline.<metric>`, `promotion.decision` and `promotion.reason`.
    """
    name, version = model_name(gan), str(version)
    candidate = headline(gan, metrics_json)
    current = champion(client, gan)
    if current is not None and str(current.version) == version:
        decision = Decision(False, f"version {version} already is the champion")
    else:
        decision = decide(gan, candidate, recorded_headline(current) if current is not None else None)
        if current is not None:
            decision = Decision(decision.promote, f"{decision.reason} (champion: version {current.version})")
    for key, value in candidate.items():
        client.set_model_version_tag(name, version, TAG_PREFIX + key, repr(value))
    client.set_model_version_tag(name, version, "promotion.decision", "promoted" if decision.promote else "kept")
    client.set_model_version_tag(name, version, "promotion.reason", decision.reason)
    if decision.promote:
        client.set_registered_model_alias(name, ALIAS, version)
    log.info("%s version %s: %s", name, version, decision.reason)
    return decision


def candidate_version(client, gan: str, pipeline_run_id: Optional[str] = None):
    """The version this pipeline run's train stage registered; else the newest version never judged.

    None when training was up to date (no new version) and every version has been judged.
    """
    from mlflow.exceptions import MlflowException

    name = model_name(gan)
    try:
        versions = list(client.search_model_versions(f"name = '{name}'"))
    except MlflowException:
        return None
    if pipeline_run_id:
        from ganaudio.orchestration.tracking import stage_runs

        train_ids = {r.info.run_id for r in stage_runs(client, pipeline_run_id, (gan,))
                     if r.data.tags.get("ganaudio.stage") == f"train_{gan}"}
        ours = [v for v in versions if v.run_id in train_ids]
        if ours:
            return max(ours, key=lambda v: int(v.version))
    unjudged = [v for v in versions if "promotion.decision" not in (v.tags or {})]
    return max(unjudged, key=lambda v: int(v.version)) if unjudged else None
