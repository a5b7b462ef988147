"""`train.init_from`: start a run from trained weights on purpose (transfer, scheduled fine-tuning).

- null: the seeded initialisation (the default).
- a path: a training checkpoint (latest.pt: generator, its EMA when kept, and critic) or a
  generator.pt (generator only; the critic starts fresh).
- champion: the checkpoint behind the version of `ganaudio-<kind>` that holds the `champion`
  alias in the MLflow model registry (the train stage logs it as the run artifact
  `checkpoint/latest.pt`). With no champion yet the run trains from scratch and says so.

Optimisers always start fresh. The result names its source (and the model version), which
enters the run's identity and the MLflow run's tags.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from ganaudio.errors import GanaudioError
from ganaudio.training.identity import fingerprint
from ganaudio.training.loop import WarmStart

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHECKPOINT_ARTIFACT = "checkpoint"  # the train run's artifact folder holding latest.pt


class WarmStartError(GanaudioError):
    """`train.init_from` names something that cannot be loaded."""


def resolve_warm_start(init_from: Optional[str], kind: str) -> Optional[WarmStart]:
    """The weights `init_from` names, or None for the seeded initialisation."""
    if init_from is None:
        return None
    if init_from == CHAMPION:
        found = _champion_checkpoint(kind)
        if found is None:
            log.warning("train.init_from: champion, but ganaudio-%s has no champion yet; training from scratch", kind)
            return None
        path, version = found
        return from_checkpoint(path, kind, {"from": CHAMPION, "model": f"ganaudio-{kind}", "version": version})
    return from_checkpoint(Path(init_from), kind, {"from": str(init_from)})


def from_checkpoint(path: Path, kind: str, describe: dict) -> WarmStart:
    from ganaudio.training.state import load_checkpoint

    if not Path(path).exists():
        raise WarmStartError(f"train.init_from: {path} does not exist; give a latest.pt or generator.pt, "
                             "'champion', or null")
    blob = load_checkpoint(path)
    if blob.get("kind") != kind:
        raise WarmStartError(f"train.init_from: {path} is a {blob.get('kind')!r} checkpoint, not {kind!r}")
    generator = blob.get("generator_ema") or blob["generator"]
    critic = blob.get("critic")
    if critic is None:
        log.warning("train.init_from: %s holds no critic; the critic starts from its initialisation", path)
    return WarmStart(generator, critic, {**describe, "step": int(blob.get("step", 0)),
                                         "weights": fingerprint(list(generator.values()))[:16]})


def _champion_checkpoint(kind: str) -> Optional[tuple[Path, str]]:
    """(local copy of the champion's latest.pt, its version) or None when there is no champion."""
    from ganaudio.tracking import import_mlflow

    mlflow = import_mlflow()
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(f"ganaudio-{kind}", CHAMPION)
    except MlflowException:
        return None
    try:
        local = client.download_artifacts(version.run_id, f"{CHECKPOINT_ARTIFACT}/latest.pt")
    except (MlflowException, OSError) as e:
        raise WarmStartError(f"train.init_from: champion ganaudio-{kind} v{version.version} (run {version.run_id}) "
                             f"has no {CHECKPOINT_ARTIFACT}/latest.pt artifact ({type(e).__name__}); "
                             "retrain it with the current ganaudio or set init_from to a checkpoint path") from None
    return Path(local), str(version.version)
