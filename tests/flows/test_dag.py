"""The stage plan read from dvc.yaml: order, subsets per GAN, and agreement with DVC's own graph."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ganaudio.orchestration import dag

ROOT = Path(__file__).resolve().parents[2]
DVC_YAML = ROOT / "dvc.yaml"


def test_all_runs_every_stage_in_dependency_order():
    order = dag.plan(DVC_YAML, "all")
    assert order == ["fetch_maestro", "fetch_sc09", "notes", "mels", "waves", "train_pianoar", "train_pianogan", "render_pianogan",
                     "eval_pianogan", "train_classifier", "train_spectogan", "render_spectogan", "eval_spectogan",
                     "train_wavegan", "render_wavegan", "eval_wavegan"]


@pytest.mark.parametrize("gan, expected", [
    ("pianogan", ["fetch_maestro", "notes", "train_pianoar", "train_pianogan", "render_pianogan", "eval_pianogan"]),
    ("spectogan", ["fetch_sc09", "mels", "train_classifier", "train_spectogan", "render_spectogan", "eval_spectogan"]),
    ("wavegan", ["fetch_sc09", "mels", "waves", "train_classifier", "train_wavegan", "render_wavegan",
                 "eval_wavegan"]),
    ("data", ["fetch_maestro", "fetch_sc09", "notes", "mels", "waves"]),
])
def test_each_gan_gets_only_the_stages_it_needs(gan, expected):
    assert dag.plan(DVC_YAML, gan) == expected


def test_edges_match_dvcs_own_graph():
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        graph = repo.index.graph  # edge stage -> a stage it depends on
        theirs = {(a.addressing, b.addressing) for a, b in graph.edges}
    ours = {(s, up) for s, ups in dag.edges(dag.load_stages(DVC_YAML)).items() for up in ups}
    assert len(theirs) >= 10 and ours == theirs


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dvc.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_file_order_only_breaks_ties(tmp_path):
    # 'late' is listed first but reads what 'early' writes (a file inside early's output folder).
    path = write(tmp_path, """
        stages:
          late:
            cmd: x
            deps: [out/a/file.txt]
          side:
            cmd: x
          early:
            cmd: x
            outs:
              - out/a:
                  persist: true
            metrics:
              - m.json: {cache: false}
          report:
            cmd: x
            deps: [m.json, side_out]
        """)
    assert dag.plan(path, targets=["late"]) == ["early", "late"]
    assert dag.plan(path, targets=["late", "side", "report"]) == ["side", "early", "late", "report"]


def test_cycles_and_unknown_names_are_clear_errors(tmp_path):
    path = write(tmp_path, """
        stages:
          a: {cmd: x, deps: [b.txt], outs: [a.txt]}
          b: {cmd: x, deps: [a.txt], outs: [b.txt]}
        """)
    with pytest.raises(dag.DagError, match="cycle"):
        dag.plan(path, "all")
    with pytest.raises(dag.DagError, match="no stage named nope"):
        dag.plan(path, targets=["nope"])
    with pytest.raises(dag.DagError, match="unknown --gan"):
        dag.plan(path, "musegan")
    with pytest.raises(dag.DagError, match="not found"):
        dag.plan(tmp_path / "missing.yaml")
