"""Digits on demand: a conditional SpectoGAN's per-digit accuracy, its confusion PNG, the valid
monitor, and `ganaudio generate spectogan --digit`. A 2-step debug model on the tiny tone data."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from ganaudio.config import RuntimeConfig, load_params
from ganaudio.data.datasets import MelClips
from ganaudio.tasks import spectogan
from ganaudio.tasks.common import balanced_digits
from ganaudio.tasks.judge import DigitJudge
from ganaudio.tracking import Tracker

RUNTIME = RuntimeConfig(device="cpu", progress=False, mlflow=False)


class Recorder(Tracker):
    def __init__(self):
        self.metrics, self.artifacts = {}, []

    def log_metrics(self, metrics, step=None):
        self.metrics.update(metrics)

    def log_artifact(self, path, artifact_path=None):
        self.artifacts.append(str(path))


def debug_cfg(tmp_path, conditional=True, **train):
    params = tmp_path / "params.yaml"
    params.write_text("{}\n")
    return load_params(params, {"spectogan": {"preset": "debug", "model": {"conditional": conditional},
                                              "train": {"steps": 2, **train}, "eval": {"n_samples": 30}}}).spectogan


def trained(judged, tmp_path, conditional):
    mels_dir, _ = judged
    cfg = debug_cfg(tmp_path, conditional)
    spectogan.train(cfg, RUNTIME, mels_dir, tmp_path / "model")
    return cfg, mels_dir, tmp_path / "model"


@pytest.fixture(scope="module")
def conditional_run(judged, tmp_path_factory):
    return trained(judged, tmp_path_factory.mktemp("conditional"), True)


@pytest.fixture(scope="module")
def unconditional_run(judged, tmp_path_factory):
    return trained(judged, tmp_path_factory.mktemp("unconditional"), False)


def test_evaluate_reports_per_digit_accuracy_from_the_classifier(conditional_run, tmp_path):
    cfg, mels_dir, model_dir = conditional_run
    tracker = Recorder()
    png = tmp_path / "digits.png"
    result = spectogan.evaluate(cfg, model_dir, mels_dir, mels_dir / "clf.pt", tracker=tracker, progress=False,
                                split="valid", digits_png=png)
    acc = result["per_digit_accuracy"]["trained"]
    confusion = np.array(acc["confusion"])
    assert confusion.shape == (10, 10) and (confusion.sum(1) == 3).all()  # 30 clips: each digit asked 3 times
    # The same clips, classified independently, give the same matrix.
    sampler = spectogan.Sampler(model_dir / "checkpoints/latest.pt", mels_dir, cfg)
    asked = balanced_digits(30)
    heard = DigitJudge(mels_dir, mels_dir / "clf.pt", "valid").classify(
        sampler.to_audio(sampler.spectrograms(30, cfg.eval.seed, labels=asked)))
    want = np.zeros((10, 10), int)
    np.add.at(want, (asked.numpy(), heard.numpy()), 1)
    assert (confusion == want).all()
    assert acc["per_digit"] == pytest.approx(list(np.diag(want) / 3))
    assert acc["mean"] == pytest.approx(np.diag(want).sum() / 30)
    assert "untrained" in result["per_digit_accuracy"] and result["conditional"] is True
    assert tracker.metrics["digit_accuracy/mean"] == pytest.approx(acc["mean"])
    assert {f"digit_accuracy/{d}" for d in range(10)} <= set(tracker.metrics)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(png) in tracker.artifacts


def test_unconditional_evaluate_plots_digit_shares_and_has_no_accuracy(unconditional_run, tmp_path):
    cfg, mels_dir, model_dir = unconditional_run
    result = spectogan.evaluate(cfg, model_dir, mels_dir, mels_dir / "clf.pt", progress=False,
                                split="valid", digits_png=tmp_path / "digits.png")
    assert "per_digit_accuracy" not in result and result["conditional"] is False
    assert sum(result["heard_digit_counts"]["trained"]) == 30 and sum(result["heard_digit_counts"]["real"]) == 40
    assert (tmp_path / "digits.png").stat().st_size > 0


def test_valid_monitor_scores_training_and_keeps_best(judged, tmp_path):
    mels_dir, _ = judged
    cfg = debug_cfg(tmp_path, monitor_every=1)
    with pytest.raises(ValueError, match="needs the digit classifier"):
        spectogan.train(cfg, RUNTIME, mels_dir, tmp_path / "m0")
    spectogan.train(cfg, RUNTIME, mels_dir, tmp_path / "model", classifier_path=mels_dir / "clf.pt")
    rows = pd.read_csv(tmp_path / "model/metrics.csv")
    assert {"valid/fid", "valid/inception_score", "valid/ndb_k", "valid/digit_accuracy"} <= set(rows.columns)
    assert rows["valid/fid"].notna().sum() == 2 and (tmp_path / "model/best.pt").exists()


def test_generate_digit_from_a_conditional_checkpoint(conditional_run, unconditional_run, tmp_path):
    from ganaudio.cli import main

    _, mels_dir, model_dir = conditional_run
    ckpt = str(model_dir / "checkpoints/latest.pt")
    outs = {}
    for digit in (7, 3):
        out = tmp_path / f"d{digit}"
        assert main(["generate", "spectogan", "--checkpoint", ckpt, "--n", "2", "--digit", str(digit), "--out", str(out),
                     "--data", str(mels_dir), "--params", str(tmp_path / "none.yaml")]) == 0
        outs[digit] = [sf.read(p)[0] for p in sorted(out.glob("*.wav"))]
        assert len(outs[digit]) == 2 and len(list(out.glob("*.png"))) == 2
    assert not np.allclose(outs[7][0], outs[3][0])  # the digit reaches the generator (same seed, same z)
    # and asking it of an unconditional model is a clear error
    uncond = unconditional_run[2] / "checkpoints/latest.pt"
    assert main(["generate", "spectogan", "--checkpoint", str(uncond), "--digit", "7",
                 "--out", str(tmp_path / "x"), "--data", str(mels_dir)]) == 2


def test_balanced_digits_ask_for_each_digit_equally():
    assert torch.bincount(balanced_digits(1000), minlength=10).tolist() == [100] * 10


@pytest.mark.parametrize("run", ["conditional_run", "unconditional_run"])
def test_render_writes_same_digit_pairs_at_one_loudness(run, request, tmp_path):
    from ganaudio.audio.wav import TARGET_DBFS, gated_rms

    cfg, mels_dir, model_dir = request.getfixturevalue(run)
    summary = spectogan.render(cfg, model_dir, mels_dir, mels_dir / "clf.pt", tmp_path)
    gen = sorted(tmp_path.glob("pairs/*_generated_*.wav"))
    real = sorted(tmp_path.glob("pairs/*_real_*.wav"))
    assert len(gen) == len(real) == cfg.render.n_samples == summary["real_samples"]
    digits = summary["pair_digits"]
    assert [int(p.stem.rsplit("_", 1)[1]) for p in gen] == digits
    if summary["conditional"]:
        assert digits == balanced_digits(len(gen)).tolist()  # what it was asked for
    # the real clip of each pair is a test clip of that digit, by the label the data stage gave it
    test = MelClips(mels_dir, "test")
    label_of = dict(zip(test.files, test.labels.tolist()))
    assert [label_of[f] for f in summary["pair_real_clips"]] == digits
    for path in gen + real:
        audio, sr = sf.read(path)
        assert gated_rms(audio, sr) == pytest.approx(10 ** (TARGET_DBFS / 20), rel=0.05)
