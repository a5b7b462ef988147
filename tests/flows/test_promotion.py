"""Champion/challenger: the rule and its floors, and its MLflow glue on a real sqlite registry.

The store is filled the way the stages fill it: a train run tags the sha256 of the checkpoint
it registered, an eval run (through `log_headline`, the eval stages' own call) tags the digest
of the checkpoint it scored and logs the headline.
"""

from __future__ import annotations

import json
import math

import pytest

from ganaudio.metrics.headline.rules import headline, log_headline
from ganaudio.orchestration import promotion
from ganaudio.orchestration.pipeline_run import VERSION_TAG, version_of_checkpoint
from ganaudio.orchestration.promotion import decide
from ganaudio.tracking import CHECKPOINT_TAG, start_run


def piano(score: float, baseline: float = 0.2, passed: bool = True) -> dict:
    return {"median_gap_closed": 0.4,
            "headline": {"name": "median_gap_closed", "score": score, "baseline_score": baseline,
                         "baseline_std": 0.01, "passed": passed}}


def specto(fid: float, is_mean: float, untrained: float = 90.0) -> dict:
    return {"fid": {"trained": fid, "untrained": untrained, "real": 1.0},
            "inception_score": {"trained": {"mean": is_mean, "std": 0.1}, "real": {"mean": 9.0, "std": 0.1}}}


# ---------------------------------------------------------------- headline and rule

def test_headline_reads_the_documented_metrics_shapes(tmp_path):
    assert headline("pianogan", piano(0.5)) == {"score": 0.5, "floor": 0.2, "passed": 1.0}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(specto(20.0, 3.5)))
    assert headline("spectogan", path) == {"fid": 20.0, "inception_score": 3.5, "floor": 90.0}
    assert headline("wavegan", specto(30.0, 2.0)) == {"fid": 30.0, "inception_score": 2.0, "floor": 90.0}
    assert math.isnan(headline("pianogan", {"headline": {**piano(0)["headline"], "score": None}})["score"])
    with pytest.raises(ValueError, match=r"old.json: no 'fid.trained'; rerun eval_spectogan with the current"):
        headline("spectogan", _write(tmp_path / "old.json", {"fid": 3.0}))
    # PianoGAN metrics from before the `headline` object existed.
    with pytest.raises(ValueError, match=r"no 'headline.score'; rerun eval_pianogan with the current ganaudio"):
        headline("pianogan", {"median_gap_closed": 0.9})
    with pytest.raises(FileNotFoundError, match="dvc repro eval_pianogan"):
        headline("pianogan", tmp_path / "missing.json")


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_a_first_candidate_is_promoted_only_above_its_floor():
    assert decide("spectogan", headline("spectogan", specto(50.0, 1.0)), None).promote
    worse = decide("spectogan", headline("spectogan", specto(500.0, 1.0, untrained=467.5)), None)
    assert not worse.promote and "fid 500 is not below the untrained generator's 467.5" in worse.reason
    assert decide("pianogan", headline("pianogan", piano(0.5)), None).promote
    below = decide("pianogan", headline("pianogan", piano(-0.0023, baseline=0.1, passed=False)), None)
    assert not below.promote and "did not pass (headline.passed is false)" in below.reason
    # Beats the baseline but the evaluation failed it (e.g. novelty): still not promoted.
    assert not decide("pianogan", headline("pianogan", piano(0.5, passed=False)), None).promote


def test_the_floor_holds_against_a_champion_too():
    weak_champion = {"fid": 600.0, "inception_score": 1.0, "floor": 90.0}
    assert not decide("spectogan", {"fid": 100.0, "inception_score": 2.0, "floor": 90.0}, weak_champion).promote


@pytest.mark.parametrize("new, old, promote", [(0.5, 0.4, True), (0.3, 0.4, False), (0.4, 0.4, False)])
def test_pianogan_promotes_a_higher_score_only(new, old, promote):
    d = decide("pianogan", headline("pianogan", piano(new)), headline("pianogan", piano(old)))
    assert d.promote is promote
    assert "score" in d.reason and f"{new:.4g}" in d.reason


@pytest.mark.parametrize("cand, champ, promote, why", [
    ((18.0, 3.0), (20.0, 4.0), True, "fid"),              # clearly lower FID wins even with a lower IS
    ((22.0, 5.0), (20.0, 4.0), False, "fid"),             # clearly higher FID loses even with a higher IS
    ((20.1, 4.5), (20.0, 4.0), True, "inception_score"),  # FID within 1 %: the higher IS breaks the tie
    ((19.9, 3.5), (20.0, 4.0), False, "inception_score"),  # FID within 1 %: the lower IS keeps the champion
    ((20.0, 4.0), (20.0, 4.0), False, "ties"),
])
def test_spectogan_lower_fid_wins_and_inception_score_breaks_ties(cand, champ, promote, why):
    d = decide("spectogan", headline("spectogan", specto(*cand)), headline("spectogan", specto(*champ)))
    assert d.promote is promote
    assert d.reason.startswith(why)


def test_a_candidate_without_a_number_never_replaces_the_champion():
    nan = {"score": float("nan"), "floor": 0.0, "passed": 1.0}
    assert not decide("pianogan", nan, {"score": 0.1, "floor": 0.0, "passed": 1.0}).promote
    assert not decide("pianogan", nan, None).promote


# ---------------------------------------------------------------- on a real MLflow store

class Store:
    """Train and eval runs as the stages make them, under pipeline runs as the flow makes them."""

    def __init__(self, mlflow_store, tmp_path):
        self.s, self.client, self.tmp, self.n = mlflow_store, mlflow_store.client, tmp_path, 0

    def pipeline_run(self) -> str:
        return self.client.create_run(self.s.experiment("pipeline")).info.run_id

    def train(self, gan: str, parent: str | None = None) -> tuple[str, object]:
        """A train run that registers a new checkpoint file; returns (version, checkpoint path)."""
        self.n += 1
        checkpoint = self.tmp / f"latest-{self.n}.pt"
        checkpoint.write_bytes(f"weights {self.n}".encode())
        self.s.experiment(gan)
        with _parent(parent), start_run(gan, f"train_{gan}") as tracker:
            from ganaudio.tracking import file_digest

            tracker.set_tags({CHECKPOINT_TAG: file_digest(checkpoint)})
            run_id = tracker.run_id
        name = promotion.model_name(gan)
        if not self.client.search_registered_models(f"name = '{name}'"):
            self.client.create_registered_model(name)
        version = self.client.create_model_version(name, source=f"runs:/{run_id}/generator", run_id=run_id).version
        return str(version), checkpoint

    def evaluate(self, gan: str, checkpoint, metrics: dict, parent: str | None = None) -> str:
        with _parent(parent), start_run(gan, f"eval_{gan}") as tracker:
            log_headline(tracker, gan, metrics, checkpoint)
            return tracker.run_id


def _parent(run_id):
    import contextlib
    import os

    from ganaudio.tracking import PARENT_RUN_ENV

    @contextlib.contextmanager
    def scope():
        if run_id:
            os.environ[PARENT_RUN_ENV] = run_id
        try:
            yield
        finally:
            os.environ.pop(PARENT_RUN_ENV, None)
    return scope()


@pytest.fixture
def store(mlflow_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Store(mlflow_store, tmp_path)


def test_a_stale_version_is_never_judged_and_each_version_has_its_own_numbers(store):
    """Replays the report: a third retrain with nothing new judged v1 with v3's FID."""
    client, name = store.client, "ganaudio-spectogan"
    # v1 came from a plain `dvc repro` (no pipeline run) and was never judged; its eval said 20.
    v1, ck1 = store.train("spectogan")
    store.evaluate("spectogan", ck1, specto(20.0, 4.0))
    # A retrain trained v2; its eval (newer, so the workspace's metrics.json) says 15.
    p2 = store.pipeline_run()
    v2, ck2 = store.train("spectogan", p2)
    store.evaluate("spectogan", ck2, specto(15.0, 4.0), p2)
    decision, judged = promotion.judge_pipeline_run(client, "spectogan", p2)
    assert judged == v2 and decision.promote
    assert float(client.get_model_version(name, v2).tags["headline.fid"]) == 15.0
    # A third retrain where training was up to date (the eval may rerun): nothing is judged.
    p3 = store.pipeline_run()
    store.evaluate("spectogan", ck2, specto(15.2, 4.1), p3)
    decision, judged = promotion.judge_pipeline_run(client, "spectogan", p3)
    assert judged is None and not decision.promote and "nothing judged" in decision.reason
    assert "promotion.decision" not in client.get_model_version(name, v1).tags  # (no workspace version recorded)
    # Judged on purpose, v1 gets its own eval's 20, not the 15 of the newer model.
    kept = promotion.promote_if_better(client, "spectogan", v1)
    tags = client.get_model_version(name, v1).tags
    assert not kept.promote and float(tags["headline.fid"]) == 20.0
    assert "fid 20 vs champion 15.2" in kept.reason  # the champion's newest eval of its own checkpoint
    assert str(client.get_model_version_by_alias(name, "champion").version) == v2


def record_workspace_version(store, gan: str, pipeline_run: str, checkpoint) -> None:
    """What the pipeline flow records at its end (`record_pipeline`): which version the workspace's model is."""
    from ganaudio.tracking import file_digest

    version = version_of_checkpoint(store.client, gan, file_digest(checkpoint))
    store.client.set_tag(pipeline_run, VERSION_TAG + gan, str(version.version))


def test_a_make_run_model_is_judged_by_a_retrain_with_everything_up_to_date(store):
    """Replays issue 20: `make run` registers v1 outside any pipeline run; a retrain finds every
    stage up to date, registers nothing, and still gives v1, the workspace's model, its verdict."""
    client, name = store.client, "ganaudio-spectogan"
    v1, ck1 = store.train("spectogan")  # a plain `dvc repro`: no pipeline run
    store.evaluate("spectogan", ck1, specto(120.0, 3.0, untrained=467.5))
    # a later version that is not the workspace's model, with better numbers of its own
    _, ck2 = store.train("spectogan")
    store.evaluate("spectogan", ck2, specto(40.0, 6.0, untrained=467.5))
    retrain = store.pipeline_run()  # up to date: its pipeline run holds no stage run
    record_workspace_version(store, "spectogan", retrain, ck1)
    decision, judged = promotion.judge_pipeline_run(client, "spectogan", retrain)
    assert judged == v1 and decision.promote
    assert str(client.get_model_version_by_alias(name, "champion").version) == v1
    assert float(client.get_model_version(name, v1).tags["headline.fid"]) == 120.0  # its own eval, not v2's
    # The next retrain finds it judged: nothing more to do.
    again = store.pipeline_run()
    record_workspace_version(store, "spectogan", again, ck1)
    decision, judged = promotion.judge_pipeline_run(client, "spectogan", again)
    assert judged is None and not decision.promote and "judged before" in decision.reason


def test_a_make_run_model_below_its_floor_is_judged_but_never_champion(store):
    v1, ck1 = store.train("wavegan")
    store.evaluate("wavegan", ck1, specto(600.0, 1.0, untrained=545.3))
    retrain = store.pipeline_run()
    record_workspace_version(store, "wavegan", retrain, ck1)
    decision, judged = promotion.judge_pipeline_run(store.client, "wavegan", retrain)
    assert judged == v1 and not decision.promote and "not below the untrained generator" in decision.reason
    assert promotion.champion(store.client, "wavegan") is None


def test_a_bad_first_model_is_not_promoted_and_a_good_one_then_is(store):
    client, name = store.client, "ganaudio-spectogan"
    p1 = store.pipeline_run()
    v1, ck1 = store.train("spectogan", p1)
    store.evaluate("spectogan", ck1, specto(500.0, 1.0, untrained=467.5), p1)
    decision, _ = promotion.judge_pipeline_run(client, "spectogan", p1)
    assert not decision.promote and "not below the untrained generator" in decision.reason
    assert promotion.champion(client, "spectogan") is None
    assert client.get_model_version(name, v1).tags["promotion.decision"] == "kept"

    p2 = store.pipeline_run()
    v2, ck2 = store.train("spectogan", p2)
    store.evaluate("spectogan", ck2, specto(120.0, 3.0, untrained=467.5), p2)
    decision, judged = promotion.judge_pipeline_run(client, "spectogan", p2)
    assert decision.promote and judged == v2
    assert str(client.get_model_version_by_alias(name, "champion").version) == v2


def test_a_pianogan_that_fails_its_baseline_is_not_promoted(store):
    p1 = store.pipeline_run()
    _, ck = store.train("pianogan", p1)
    store.evaluate("pianogan", ck, piano(-0.0023, baseline=0.1, passed=False), p1)
    decision, _ = promotion.judge_pipeline_run(store.client, "pianogan", p1)
    assert not decision.promote and "did not pass" in decision.reason
    assert promotion.champion(store.client, "pianogan") is None


def test_an_eval_without_headline_or_no_eval_at_all_says_what_to_rerun(store):
    p1 = store.pipeline_run()
    v1, ck = store.train("pianogan", p1)
    decision, _ = promotion.judge_pipeline_run(store.client, "pianogan", p1)
    assert not decision.promote and "no finished eval_pianogan run scored its checkpoint" in decision.reason
    store.evaluate("pianogan", ck, {"median_gap_closed": 0.9}, p1)  # an older PianoGAN metrics.json
    decision = promotion.promote_if_better(store.client, "pianogan", v1)
    assert not decision.promote and "rerun eval_pianogan with the current ganaudio" in decision.reason


def test_promote_if_better_moves_the_alias_only_for_a_better_version(store):
    client, name = store.client, "ganaudio-spectogan"
    versions = []
    for fid, is_mean in ((20.0, 4.0), (30.0, 6.0), (15.0, 3.0)):
        v, ck = store.train("spectogan")
        eval_run = store.evaluate("spectogan", ck, specto(fid, is_mean))
        versions.append((v, eval_run))
    (v1, _), (v2, e2), (v3, _) = versions
    assert promotion.promote_if_better(client, "spectogan", v1).promote
    worse = promotion.promote_if_better(client, "spectogan", v2)
    assert not worse.promote and f"champion: version {v1}" in worse.reason
    tags = client.get_model_version(name, v2).tags
    assert tags["promotion.decision"] == "kept" and tags["promotion.reason"] == worse.reason
    assert tags["promotion.eval_run"] == e2 and float(tags["headline.fid"]) == 30.0
    assert promotion.promote_if_better(client, "spectogan", v3).promote
    assert str(client.get_model_version_by_alias(name, "champion").version) == v3
    # Judging the champion again changes nothing.
    assert not promotion.promote_if_better(client, "spectogan", v3).promote


def test_the_eval_run_links_to_the_version_that_scored_checkpoint_came_from(store):
    from ganaudio.tracking import file_digest

    p = store.pipeline_run()
    v, ck = store.train("spectogan", p)
    eval_run = store.evaluate("spectogan", ck, specto(50.0, 2.0), p)
    version = store.client.get_model_version("ganaudio-spectogan", v)
    assert promotion.eval_run_of(store.client, "spectogan", version).info.run_id == eval_run
    assert str(version_of_checkpoint(store.client, "spectogan", file_digest(ck)).version) == v
    assert str(promotion.candidate_version(store.client, "spectogan", p).version) == v
    assert promotion.candidate_version(store.client, "spectogan", "no-such-run") is None


@pytest.mark.slow
def test_a_real_logged_torch_model_links_back_to_its_run(mlflow_store, tmp_path, monkeypatch):
    """What the train stage does: mlflow.pytorch.log_model(..., registered_model_name=...)."""
    import mlflow
    import torch

    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(mlflow_store.uri)
    parent = mlflow_store.client.create_run(mlflow_store.experiment("pipeline")).info.run_id
    mlflow.set_experiment(experiment_id=mlflow_store.experiment("pianogan"))
    with mlflow.start_run(tags={"ganaudio.stage": "train_pianogan", "mlflow.parentRunId": parent}) as run:
        mlflow.pytorch.log_model(torch.nn.Linear(4, 2), name="generator", serialization_format="pickle",
                                 registered_model_name="ganaudio-pianogan")
    version = promotion.candidate_version(mlflow_store.client, "pianogan", parent)
    assert version is not None and version.run_id == run.info.run_id
