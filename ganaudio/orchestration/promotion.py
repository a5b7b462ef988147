"""Champion/challenger: promote a newly trained generator only when its own evaluation is better.

The rule (`decide`) is pure; the rest is MLflow glue. Each registered model `ganaudio-<gan>`
keeps its best version under the alias `champion`. A version's numbers come from the eval run
that scored the very checkpoint the version was registered from (the train run tags the file's
sha256 as `ganaudio.checkpoint`, the eval run as `ganaudio.scored_checkpoint`), never from the
workspace's current reports: the workspace may hold a newer model's metrics.
Every judged version carries tags saying why it was or was not promoted, its headline and the
eval run it came from.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Optional

from ganaudio.metrics.headline.rules import PROMOTION_PREFIX, clears_floor, rule
from ganaudio.orchestration.pipeline_run import VERSION_TAG, model_name, stage_runs
from ganaudio.tracking import CHECKPOINT_TAG, SCORED_TAG

log = logging.getLogger(__name__)

ALIAS = "champion"
TAG_PREFIX = "headline."


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide(gan: str, candidate: dict, champion: Optional[dict]) -> Decision:
    """Promote a candidate that clears its floor and beats the champion (or ties and wins the tie-break).

    The floor applies to every candidate, not only the first: a model that loses to the untrained
    generator (or to PianoGAN's iid_notes baseline) is never promoted.
    """
    r = rule(gan)
    first = r.primary
    if not math.isfinite(candidate.get(first.key, float("nan"))):
        return Decision(False, f"candidate {first.key} is {candidate.get(first.key)}: not a number, keep champion")
    ok, why = clears_floor(gan, candidate)
    if not ok:
        return Decision(False, f"{why}: not promoted")
    if champion is None:
        return Decision(True, f"no champion yet and it clears the floor: promote ({_fmt(candidate, r)})")
    for i, m in enumerate(r.metrics):
        new, old = candidate.get(m.key, float("nan")), champion.get(m.key, float("nan"))
        if not math.isfinite(old):
            return Decision(True, f"champion has no {m.key}: promote ({_fmt(candidate, r)})")
        if not math.isfinite(new):
            return Decision(False, f"candidate {m.key} is not a number: keep champion")
        tie = r.tie_rel * abs(old) if i == 0 else 0.0
        better = new > old if m.higher_is_better else new < old
        word = "higher" if m.higher_is_better else "lower"
        if abs(new - old) > tie:
            verdict = "promote" if better else "keep champion"
            return Decision(better, f"{m.key} {new:.4g} vs champion {old:.4g} ({word} is better): {verdict}")
    return Decision(False, f"ties the champion on {', '.join(m.key for m in r.metrics)} "
                           f"({_fmt(candidate, r)}): keep champion")


def _fmt(values: dict, r) -> str:
    return ", ".join(f"{m.key} {values.get(m.key, float('nan')):.4g}" for m in r.metrics)


# ---------------------------------------------------------------- MLflow glue

def champion(client, gan: str):
    """The model version holding the `champion` alias, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name(gan), ALIAS)
    except MlflowException:
        return None


def eval_run_of(client, gan: str, version):
    """The newest finished eval_<gan> run that scored this version's checkpoint, or None."""
    train = client.get_run(version.run_id) if version.run_id else None
    digest = train.data.tags.get(CHECKPOINT_TAG) if train else None
    if not digest:
        return None
    runs = client.search_runs(
        [train.info.experiment_id],
        filter_string=(f"tags.`{SCORED_TAG}` = '{digest}' and tags.`ganaudio.stage` = 'eval_{gan}' "
                       f"and attributes.status = 'FINISHED'"),
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def eval_headline(run) -> Optional[dict[str, float]]:
    """The headline an eval run logged (`promotion/<key>` metrics), or None for an older eval."""
    found = {k[len(PROMOTION_PREFIX):]: v for k, v in run.data.metrics.items() if k.startswith(PROMOTION_PREFIX)}
    return found or None


def recorded_headline(version) -> Optional[dict[str, float]]:
    """The headline a version was judged on (its `headline.*` tags), or None if it never was."""
    found = {k[len(TAG_PREFIX):]: float(v) for k, v in (version.tags or {}).items() if k.startswith(TAG_PREFIX)}
    return found or None


def version_headline(client, gan: str, version) -> tuple[Optional[dict[str, float]], str]:
    """(headline, where it came from) for a model version: its own eval run, else the tags it was judged on."""
    run = eval_run_of(client, gan, version)
    if run is not None:
        values = eval_headline(run)
        if values is not None:
            return values, run.info.run_id
        return None, (f"eval run {run.info.run_id} scored it but logged no headline; rerun eval_{gan} "
                      f"with the current ganaudio")
    recorded = recorded_headline(version)
    if recorded is not None:
        return recorded, "its promotion tags"
    return None, f"no finished eval_{gan} run scored its checkpoint; run `dvc repro eval_{gan}`"


def promote_if_better(client, gan: str, version: str | int) -> Decision:
    """Judge model version `version` of ganaudio-<gan> by its own eval run; move the alias if it wins.

    Either way the version gets tags `promotion.decision` and `promotion.reason`, and, when its
    evaluation was found, `headline.<key>` and `promotion.eval_run`.
    """
    name, version = model_name(gan), str(version)
    mv = client.get_model_version(name, version)
    candidate, source = version_headline(client, gan, mv)
    current = champion(client, gan)
    if candidate is None:
        decision = Decision(False, f"version {version}: {source}")
    elif current is not None and str(current.version) == version:
        decision = Decision(False, f"version {version} already is the champion")
    else:
        held = version_headline(client, gan, current)[0] if current is not None else None
        decision = decide(gan, candidate, held)
        if current is not None:
            decision = Decision(decision.promote, f"{decision.reason} (champion: version {current.version})")
    if candidate is not None:
        for key, value in candidate.items():
            client.set_model_version_tag(name, version, TAG_PREFIX + key, repr(value))
        client.set_model_version_tag(name, version, "promotion.eval_run", source)
    client.set_model_version_tag(name, version, "promotion.decision", "promoted" if decision.promote else "kept")
    client.set_model_version_tag(name, version, "promotion.reason", decision.reason)
    if decision.promote:
        client.set_registered_model_alias(name, ALIAS, version)
    log.info("%s version %s: %s", name, version, decision.reason)
    return decision


def candidate_version(client, gan: str, pipeline_run_id: str):
    """The version this pipeline run's train stage registered, or None when training was up to date.

    Only this run's own version is a new candidate: an older version is judged only as the
    workspace's model (`unjudged_workspace_version`), on its own numbers.
    """
    from mlflow.exceptions import MlflowException

    try:
        versions = list(client.search_model_versions(f"name = '{model_name(gan)}'"))
    except MlflowException:
        return None
    train_ids = {r.info.run_id for r in stage_runs(client, pipeline_run_id, (gan,))
                 if r.data.tags.get("ganaudio.stage") == f"train_{gan}"}
    ours = [v for v in versions if v.run_id in train_ids]
    return max(ours, key=lambda v: int(v.version)) if ours else None


def unjudged_workspace_version(client, gan: str, pipeline_run_id: str):
    """The version the workspace's model is (its checkpoint's sha256, as the pipeline run recorded it)
    when that version was never judged, else None.

    `make run` trains and registers outside any retrain; without this its models would never be judged.
    """
    found = client.get_run(pipeline_run_id).data.tags.get(VERSION_TAG + gan)
    if found is None:
        return None
    version = client.get_model_version(model_name(gan), found)
    return None if "promotion.decision" in (version.tags or {}) else version


def judge_pipeline_run(client, gan: str, pipeline_run_id: str) -> tuple[Decision, Optional[str]]:
    """Judge the version a pipeline run's training registered, else the workspace's never-judged
    version; (decision, version or None). A version judged before is not judged again."""
    version = candidate_version(client, gan, pipeline_run_id) or unjudged_workspace_version(client, gan, pipeline_run_id)
    if version is None:
        return Decision(False, f"no new {model_name(gan)} version: train_{gan} was up to date and the workspace's "
                               f"model was judged before (or is not registered), nothing judged"), None
    return promote_if_better(client, gan, version.version), str(version.version)
