"""The few numbers that rank one GAN evaluation: what promotion compares and `ganaudio runs` shows.

Each GAN's `reports/<gan>/metrics.json` holds many figures; `RULES` names the one that decides
(primary), the ones that break a tie, and the floor a model must clear before it may be promoted
at all (the untrained generator's FID; PianoGAN's `iid_notes` baseline and its `passed` verdict).
A new GAN with the same metrics.json shape as SpectoGAN is one more entry.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ganaudio.errors import BadInputError, MissingInputError


@dataclass(frozen=True)
class Metric:
    key: str                 # name in MLflow (`promotion/<key>`) and in model-version tags (`headline.<key>`)
    path: tuple[str, ...]    # where it sits in metrics.json
    higher_is_better: bool
    label: str               # column title in `ganaudio runs`


@dataclass(frozen=True)
class Rule:
    metrics: tuple[Metric, ...]          # primary first, then tie-breaks
    tie_rel: float = 0.0                 # primaries within this relative difference are a tie
    floor: Optional[tuple[str, ...]] = None  # the primary's value for a trivial model: must be beaten
    floor_name: str = "floor"            # what the floor is, for the decision's reason
    gate: Optional[tuple[str, ...]] = None   # a boolean verdict of the evaluation that must be true

    @property
    def primary(self) -> Metric:
        return self.metrics[0]


FLOOR = "floor"  # headline keys beside the metrics
PASSED = "passed"
PROMOTION_PREFIX = "promotion/"  # an eval run's headline metrics in MLflow

# FID from a few hundred clips moves by about a percent between seeds: call that a tie and let IS decide.
_FID_RULE = Rule(
    (Metric("fid", ("fid", "trained"), False, "FID"),
     Metric("inception_score", ("inception_score", "trained", "mean"), True, "IS")),
    tie_rel=0.01, floor=("fid", "untrained"), floor_name="untrained generator")

RULES: dict[str, Rule] = {
    "pianogan": Rule((Metric("score", ("headline", "score"), True, "score"),),
                     floor=("headline", "baseline_score"), floor_name="iid_notes baseline",
                     gate=("headline", "passed")),
    "spectogan": _FID_RULE,
    "wavegan": _FID_RULE,
}


def rule(gan: str) -> Rule:
    if gan not in RULES:
        raise ValueError(f"unknown gan {gan!r}; choose one of {sorted(RULES)}")
    return RULES[gan]


def headline(gan: str, metrics_json: dict | str | os.PathLike) -> dict[str, float]:
    """{metric key: value, 'floor': ..., 'passed': 1.0|0.0} from reports/<gan>/metrics.json (a path or its dict).

    A missing number (None in the JSON) becomes NaN, which never wins; a missing key means the
    file was written by an older evaluation and is an error saying so.
    """
    source = "metrics"
    if not isinstance(metrics_json, dict):
        source = str(metrics_json)
        if not Path(metrics_json).exists():
            raise MissingInputError(f"{source} not found; run `dvc repro eval_{gan}` first")
        metrics_json = json.loads(Path(metrics_json).read_text())
    r = rule(gan)
    wanted = [(m.key, m.path) for m in r.metrics]
    wanted += [(FLOOR, r.floor)] if r.floor else []
    wanted += [(PASSED, r.gate)] if r.gate else []
    out = {}
    for key, path in wanted:
        value = metrics_json
        for part in path:
            if not isinstance(value, dict) or part not in value:
                raise BadInputError(f"{source}: no '{'.'.join(path)}'; rerun eval_{gan} with the current "
                                    f"ganaudio (`dvc repro eval_{gan}`)")
            value = value[part]
        out[key] = float("nan") if value is None else float(value)
    return out


def clears_floor(gan: str, values: dict[str, float]) -> tuple[bool, str]:
    """Whether a model may be promoted at all: its verdict passed and its primary beats the floor."""
    r = rule(gan)
    first = r.primary
    if r.gate and values.get(PASSED) != 1.0:
        return False, f"the evaluation did not pass ({'.'.join(r.gate)} is {_word(values.get(PASSED))})"
    if r.floor:
        floor, value = values.get(FLOOR, float("nan")), values.get(first.key, float("nan"))
        if not math.isfinite(floor):
            return False, f"no {r.floor_name} {first.key} to compare with"
        beats = value > floor if first.higher_is_better else value < floor
        if not beats:
            word = "above" if first.higher_is_better else "below"
            return False, f"{first.key} {value:.4g} is not {word} the {r.floor_name}'s {floor:.4g}"
    return True, ""


def _word(flag) -> str:
    return {1.0: "true", 0.0: "false"}.get(flag, "missing")


def describe(gan: str, values: dict[str, float]) -> str:
    """One line for a log: 'FID 105.8, IS 4.00; untrained generator 467.5'."""
    r = rule(gan)
    parts = [f"{m.label} {values.get(m.key, float('nan')):.4g}" for m in r.metrics]
    line = ", ".join(parts)
    if r.floor:
        line += f"; {r.floor_name} {values.get(FLOOR, float('nan')):.4g}"
    if r.gate:
        line += f"; passed {_word(values.get(PASSED))}"
    return line


def log_headline(tracker, gan: str, metrics_json: dict, checkpoint: str | os.PathLike) -> Optional[dict[str, float]]:
    """What an eval stage records beside its metrics.json: which checkpoint it scored, the headline.

    The scored checkpoint's digest links this run to the train run that registered the same file
    as a model version, so promotion judges each version by its own evaluation. Logs the
    headline as `promotion/<key>` metrics and prints it as one line; an evaluation without the
    keys (an older metrics layout) is warned about, not fatal: promotion will say what to rerun.
    """
    import logging

    from ganaudio.tracking import SCORED_TAG, file_digest

    log = logging.getLogger(f"ganaudio.eval_{gan}")
    tracker.set_tags({SCORED_TAG: file_digest(checkpoint)})
    tracker.log_dict(metrics_json, "metrics.json")
    try:
        values = headline(gan, metrics_json)
    except ValueError as e:
        log.warning("no headline for promotion: %s", e)
        return None
    tracker.log_metrics({f"{PROMOTION_PREFIX}{k}": v for k, v in values.items()})
    log.info("headline: %s", describe(gan, values))
    return values
