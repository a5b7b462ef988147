"""PianoGAN's evaluation protocol: the test split is read by eval only, once, and both scales are anchored."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from ganaudio.config import load_params
from ganaudio.data.windows import NoteStats

ROOT = Path(__file__).resolve().parents[2]
L = 256  # the debug preset keeps the real window length


def _windows(rng, n):
    """Windows with a per-window scale walk (so order matters) and bimodal steps."""
    walk = np.cumsum(rng.choice([-2, -1, 1, 2], (n, L)), axis=1) % 24 + rng.integers(48, 66, (n, 1))
    step = np.where(np.arange(L) % 2, 0.0, rng.uniform(0.1, 0.4, (n, 1)))
    return np.stack([walk, np.broadcast_to(step, (n, L)), np.full((n, L), 0.3), rng.integers(20, 110, (n, L))],
                    -1).astype(np.float32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(params, notes_dir, model_dir): a debug PianoGAN trained on tiny train/valid/test windows."""
    from ganaudio.tasks import piano_peer
    from ganaudio.tasks.pianogan import train

    tmp = tmp_path_factory.mktemp("piano")
    rng = np.random.default_rng(0)
    train_w = _windows(rng, 12)
    NoteStats.fit(train_w).to_json(tmp / "stats.json")
    for split, w in (("train", train_w), ("valid", _windows(rng, 6)), ("test", _windows(rng, 6))):
        np.savez(tmp / f"windows_{split}.npz", windows=w, piece_ids=np.arange(len(w)))
    p = load_params(ROOT / "params.yaml", {"pianogan": {"preset": "debug"},
                                            "runtime": {"mlflow": False, "progress": False}})
    train(p.pianogan, p.runtime, tmp, tmp / "model")
    piano_peer.train(p.pianogan.peer, tmp, tmp / "peer")
    return p, tmp, tmp / "model"


def _count_opens(monkeypatch) -> list[str]:
    opened: list[str] = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda path, *a, **k: opened.append(Path(path).name) or real_load(path, *a, **k))
    return opened


def test_evaluate_reads_the_test_split_once_scores_the_peer_and_anchors_both_scales(trained, monkeypatch):
    from ganaudio.tasks.pianogan import evaluate

    p, notes_dir, model_dir = trained
    opened = _count_opens(monkeypatch)
    result = evaluate(p.pianogan, model_dir, notes_dir, split="test", peer_dir=notes_dir / "peer")
    assert opened.count("windows_test.npz") == 1
    rows = result["rows"]
    assert list(rows)[:2] == ["trained", "autoregressive"]  # the peer scored by the same code, beside the GAN
    assert rows["autoregressive"]["novelty"]["failed"] in (True, False)
    for key in ("structure_score", "order_score"):  # reference is the 1 of both scales
        assert rows["reference"][key]["mean"] == pytest.approx(1.0)
    assert rows["iid_notes"]["structure_score"]["mean"] == pytest.approx(0.0)
    assert rows["shuffled_train"]["order_score"]["mean"] == pytest.approx(0.0)
    assert set(result["head_entropy"]["trained"]) == {"pitch", "step", "duration"}


def test_render_never_reads_the_test_split(trained, tmp_path, monkeypatch):
    from ganaudio.tasks.pianogan import render

    p, notes_dir, model_dir = trained
    opened = _count_opens(monkeypatch)
    render(p.pianogan, model_dir, notes_dir, tmp_path / "samples")
    assert "windows_test.npz" not in opened and "windows_valid.npz" in opened
    assert (tmp_path / "samples" / "side_by_side.png").stat().st_size > 0
    real = np.load(tmp_path / "samples" / "samples.npz")["real"]
    valid = np.load(notes_dir / "windows_valid.npz")["windows"]
    assert all(any(np.array_equal(r, v) for v in valid) for r in real)  # the pairs' real side is valid windows


def test_a_recurrent_gan_starts_from_its_peer_and_a_new_peer_restarts_it(trained, tmp_path):
    from ganaudio.errors import MissingInputError
    from ganaudio.models.registry import load_generator
    from ganaudio.tasks import piano_peer
    from ganaudio.tasks.pianogan import train

    _, notes_dir, _ = trained
    rnn = {"generator": "rnn", "peer_init": True, "rnn_embed": 4, "rnn_hidden": 8, "rnn_layers": 1}
    p = load_params(ROOT / "params.yaml", {"pianogan": {"preset": "debug", "model": rnn, "train": {"steps": 1}},
                                            "runtime": {"mlflow": False, "progress": False}})
    with pytest.raises(MissingInputError, match="peer"):
        train(p.pianogan, p.runtime, notes_dir, tmp_path / "nopeer")
    summary = train(p.pianogan, p.runtime, notes_dir, tmp_path / "gan", peer_dir=notes_dir / "peer")
    assert summary["init_from"]["from"] == "peer"
    peer = piano_peer.read(notes_dir / "peer")["state_dict"]
    g, _ = load_generator(tmp_path / "gan" / "checkpoints" / "latest.pt")
    moved = max(float((g.core.state_dict()[k] - v).abs().max()) for k, v in peer.items())
    assert 0 < moved < 0.05  # one adversarial step away from the peer's weights
    # a retrained peer is another starting point: the finished run is not taken as this one
    piano_peer.train(dataclasses.replace(p.pianogan.peer, seed=1), notes_dir, tmp_path / "peer2")
    again = train(p.pianogan, p.runtime, notes_dir, tmp_path / "gan", peer_dir=tmp_path / "peer2")
    assert again["start"]["mode"] == "restarted"
