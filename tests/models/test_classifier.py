import pytest
import torch
from torch.utils.data import TensorDataset

from ganaudio.config import ClassifierConfig
from ganaudio.models.classifier import DigitClassifier, predict, spec_augment
from ganaudio.data.datasets import MelClips
from ganaudio.training.classifier import load_classifier, train_classifier

N_BINS, N_FRAMES = 16, 12


class Recorder:
    def __init__(self):
        self.rows = []

    def log_metrics(self, metrics, step=None):
        self.rows.append((step, dict(metrics)))


def banded(n, seed, noise=0.3, n_bins=N_BINS, n_frames=N_FRAMES):
    """Class k is a bright band at frequency bin k, over noise: learnable in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    x = -0.5 + noise * torch.randn(n, 1, n_bins, n_frames, generator=g)
    x[torch.arange(n), 0, labels + 3] += 1.2
    return TensorDataset(x.clamp(-1, 1), labels)


def small_cfg(**kw):
    base = dict(channels=8, epochs=15, patience=3, batch_size=32, lr=3e-3, seed=0)
    return ClassifierConfig(**{**base, **kw})


@pytest.mark.parametrize("n_bins,n_frames", [(16, 12), (64, 64), (5, 7)])
def test_shapes(n_bins, n_frames):
    model = DigitClassifier(n_bins, n_frames, channels=4)
    x = torch.rand(3, 1, n_bins, n_frames) * 2 - 1
    assert model(x).shape == (3, 10)
    assert model.features(x).shape == (3, 128)
    probs, feats = predict(model, x, batch_size=2)
    assert probs.shape == (3, 10) and feats.shape == (3, 128)
    torch.testing.assert_close(probs.sum(1), torch.ones(3))


def test_wrong_input_shape_names_the_fix():
    with pytest.raises(ValueError, match="same mels config"):
        DigitClassifier(16, 12)(torch.zeros(2, 1, 16, 13))


def test_spec_augment_keeps_shape_masks_and_is_seeded():
    x = torch.rand(16, 1, 32, 40) * 2 - 1
    keep = x.clone()
    a = spec_augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, spec_augment(x, torch.Generator().manual_seed(1)))
    assert not torch.equal(a, x) and torch.equal(x, keep)  # input untouched
    # without shifts: every cell is either the input or the example's mean (a masked band)
    m = spec_augment(x, torch.Generator().manual_seed(2), max_shift=0)
    fill = x.mean(dim=(1, 2, 3), keepdim=True).expand_as(x)
    masked = m == fill
    assert torch.equal(m[~masked], x[~masked])
    rows = masked.all(dim=3).sum().item()  # whole frequency rows masked, over the batch
    cols = masked.all(dim=2).sum().item()
    assert 0 < rows <= 16 * 8 and 0 < cols <= 16 * 8
    # without masks: each example is its input rolled in time by at most max_shift frames
    r = spec_augment(x, torch.Generator().manual_seed(3), max_shift=3, max_freq_mask=0, max_time_mask=0)
    shifts = [next(s for s in range(-3, 4) if torch.equal(torch.roll(x[i], s, dims=-1), r[i]))
              for i in range(len(x))]
    assert len(set(shifts)) > 1


def test_training_learns_the_bands_and_checkpoint_round_trips(tmp_path):
    out = tmp_path / "clf" / "classifier.pt"
    tracker = Recorder()
    result = train_classifier(banded(300, 0), banded(100, 1), banded(100, 2), small_cfg(), out,
                              tracker=tracker, progress=False)
    assert result["test_accuracy"] >= 0.9
    assert set(result) >= {"test_accuracy", "valid_accuracy", "epochs", "seconds"}
    epochs_logged = [(s, m) for s, m in tracker.rows if "train/loss" in m]
    assert len(epochs_logged) == result["epochs"]
    assert all("valid/accuracy" in m for _, m in epochs_logged)

    model = load_classifier(out)
    assert not model.training
    x = banded(20, 5).tensors[0]
    blob = torch.load(out, weights_only=True)
    again = DigitClassifier(**blob["kwargs"])
    again.load_state_dict(blob["state_dict"])
    again.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), again(x), rtol=0, atol=0)
    # the kept weights are the best-valid ones: reloading reproduces that accuracy
    valid = banded(100, 1)
    with torch.no_grad():
        acc = (model(valid.tensors[0]).argmax(1) == valid.tensors[1]).float().mean().item()
    assert acc == pytest.approx(result["valid_accuracy"])
    assert [p.name for p in out.parent.iterdir()] == ["classifier.pt"]  # no temp files left


def test_training_is_deterministic_from_seed(tmp_path):
    cfg = small_cfg(epochs=2, augment=True)
    data = banded(64, 0), banded(20, 1), banded(20, 2)
    train_classifier(*data, cfg, tmp_path / "a.pt", progress=False)
    train_classifier(*data, cfg, tmp_path / "b.pt", progress=False)
    a, b = torch.load(tmp_path / "a.pt"), torch.load(tmp_path / "b.pt")
    for k in a["state_dict"]:
        assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k


def test_early_stopping_stops_on_a_plateau(tmp_path):
    # noise-free bands: valid accuracy hits its ceiling at once and cannot improve
    data = banded(200, 0, noise=0.0), banded(50, 1, noise=0.0), banded(50, 2, noise=0.0)
    result = train_classifier(*data, small_cfg(epochs=30, patience=2), tmp_path / "c.pt",
                              progress=False)
    assert result["valid_accuracy"] == 1.0
    assert result["epochs"] < 30
    # the checkpoint holds the best epoch's weights, not the last: a run that ends exactly at
    # the best epoch (same seed, so the same batches) must have written the same tensors
    best = torch.load(tmp_path / "c.pt")
    assert best["epoch"] < result["epochs"]
    train_classifier(*data, small_cfg(epochs=best["epoch"], patience=99), tmp_path / "d.pt",
                     progress=False)
    short = torch.load(tmp_path / "d.pt")
    for k, v in best["state_dict"].items():
        assert torch.equal(v, short["state_dict"][k]), k


def test_bad_inputs_are_refused(tmp_path):
    flat = TensorDataset(torch.zeros(8, 16, 12), torch.zeros(8, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(N, 1, n_bins, n_frames\)"):
        train_classifier(flat, banded(8, 1), banded(8, 2), small_cfg(), tmp_path / "x.pt", progress=False)
    with pytest.raises(ValueError, match="one mels config"):
        train_classifier(banded(8, 0), banded(8, 1, n_frames=9), banded(8, 2), small_cfg(),
                         tmp_path / "x.pt", progress=False)
    with pytest.raises(FileNotFoundError, match="classifier stage"):
        load_classifier(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError, match="dvc repro mels"):
        MelClips(tmp_path, "train")


def test_mel_clips_read_the_stage_format(tmp_path):
    path = tmp_path / "train.pt"
    torch.save({"x": torch.zeros(4, 1, 8, 8), "labels": torch.arange(4), "speakers": ["a"] * 4,
                "files": ["f"] * 4}, path)
    ds = MelClips(tmp_path, "train", with_labels=True)
    x, y = ds[3]
    assert len(ds) == 4 and ds.data_shape == (1, 8, 8) and y.dtype == torch.long and int(y) == 3
    torch.save({"y": 1}, path)
    with pytest.raises(ValueError, match="mels stage"):
        MelClips(tmp_path, "train")
