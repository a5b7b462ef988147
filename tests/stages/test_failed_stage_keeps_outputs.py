"""A stage that refuses its params before doing any work leaves its previous outputs, byte for byte;
one that succeeds leaves only what it wrote (its outputs are persistent, so it cleans what it owns)."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.slow

NOTES_OUTPUTS = ("data/processed/notes", "reports/data/notes", "reports/data/notes.json")


def snapshot(ws) -> dict[str, bytes]:
    files = {}
    for out in NOTES_OUTPUTS:
        path = ws / out
        for f in ([path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())):
            files[f.relative_to(ws).as_posix()] = f.read_bytes()
    return files


def edit_notes(ws, change) -> None:
    params = yaml.safe_load((ws / "params.yaml").read_text())
    change(params["notes"])
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_a_params_typo_then_dvc_repro_notes_loses_nothing(tmp_path, workspace_tools):
    ws = workspace_tools.make(tmp_path / "ws")
    first = workspace_tools.dvc(ws, "repro", "notes")
    assert first.returncode == 0, first.stderr[-3000:]
    before = snapshot(ws)
    assert any(k.startswith("data/processed/notes/table/") for k in before)
    assert any(k.startswith("reports/data/notes/") and k.endswith(".png") for k in before)

    edit_notes(ws, lambda notes: notes.update(strid=32))  # the typo: stride
    typo = workspace_tools.dvc(ws, "repro", "notes")
    assert typo.returncode != 0 and "unknown key 'notes.strid'" in typo.stderr + typo.stdout
    assert snapshot(ws) == before

    # A stage that runs replaces its outputs whole: nothing of an earlier run lingers to be hashed.
    edit_notes(ws, lambda notes: (notes.pop("strid"), notes.update(stride=96)))
    (ws / "reports/data/notes/stray.png").write_bytes(b"left over")
    (ws / "data/processed/notes/stray.npz").write_bytes(b"left over")
    rerun = workspace_tools.dvc(ws, "repro", "notes")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not (ws / "reports/data/notes/stray.png").exists()
    assert not (ws / "data/processed/notes/stray.npz").exists()
    status = workspace_tools.dvc(ws, "status", "notes")
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout
