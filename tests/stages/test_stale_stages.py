"""`dvc status` after an edit to one section's preset or config: exactly the stages that read it are stale.

No stage runs: every output is a stand-in file, committed to dvc.lock with `dvc commit`, so
the workspace starts up to date and only the edited file's dependents can turn stale.
"""

from __future__ import annotations

import json

import pytest
import yaml

GANS = ("pianogan", "spectogan", "wavegan")


def trio(gan: str) -> set[str]:
    """The stages that read a GAN's section: its train, render and eval (PianoGAN's peer too)."""
    peer = {"train_pianoar"} if gan == "pianogan" else set()
    return {f"train_{gan}", f"render_{gan}", f"eval_{gan}"} | peer


@pytest.fixture(scope="module")
def ws(tmp_path_factory, workspace_tools):
    ws = workspace_tools.make(tmp_path_factory.mktemp("stale"))
    for body in yaml.safe_load((ws / "dvc.yaml").read_text())["stages"].values():
        for out in (o for kind in ("outs", "metrics", "plots") for o in body.get(kind, [])):
            path = ws / (out if isinstance(out, str) else next(iter(out)))
            if path.suffix:  # a file output
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("stand-in\n")
            else:
                (path / "stand-in").parent.mkdir(parents=True, exist_ok=True)
                (path / "stand-in").write_text("stand-in\n")
    result = workspace_tools.dvc(ws, "commit", "--force")
    assert result.returncode == 0, result.stderr
    assert stale(ws, workspace_tools) == set()
    return ws


def stale(ws, tools) -> set[str]:
    result = tools.dvc(ws, "status", "--json")
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("edited,expected", [
    *[(f"ganaudio/presets/{g}.py", trio(g)) for g in GANS],
    *[(f"ganaudio/config/{g}.py", trio(g)) for g in ("pianogan", "wavegan")],
    # WaveGAN renders and is judged with SpectoGAN's render and eval settings
    ("ganaudio/config/spectogan.py", trio("spectogan") | trio("wavegan")),
    # the clip geometry: the data stages that cut clips, and no GAN (they read it from the data)
    ("ganaudio/presets/mels.py", {"mels", "waves"}),
    ("ganaudio/config/notes.py", {"notes"}),
])
def test_an_edit_makes_stale_only_the_stages_that_read_it(ws, workspace_tools, edited, expected):
    path = ws / edited
    before = path.read_text()
    path.write_text(before + "# an edit\n")
    try:
        assert stale(ws, workspace_tools) == expected
    finally:
        path.write_text(before)
