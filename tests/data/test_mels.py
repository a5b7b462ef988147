"""WAV -> normalised log-mel: shapes, agreement with librosa, normalisation, fixes, labels, extraction."""

from __future__ import annotations

import dataclasses

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from ganaudio.config import MelsConfig, presets
from ganaudio.data import mels as M
from ganaudio.data.failures import ExtractionError


def preset(name: str, **kw) -> MelsConfig:
    return dataclasses.replace(MelsConfig(), **{**presets("mels")[name], "preset": name, **kw})


def tone(sr: int, seconds: float, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def chirp(cfg: MelsConfig, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = librosa.chirp(fmin=100, fmax=5000, sr=cfg.sample_rate, length=M.n_samples(cfg))
    return (0.5 * y + 0.01 * rng.standard_normal(len(y))).astype(np.float32)


# ---------------------------------------------------------------- transform

@pytest.mark.parametrize("name,rep,bins,frames", [
    ("cpu", "mel", 64, 64), ("paper", "mel", 128, 128),
    ("cpu", "linear", 64, 64), ("paper", "linear", 128, 128),
])
def test_log_magnitude_shape_and_dtype(name, rep, bins, frames):
    cfg = preset(name, representation=rep, **({"hop_length": 64} if (name, rep) == ("cpu", "linear") else {}))
    audio = torch.randn(3, M.n_samples(cfg))
    out = M.SpectrogramTransform(cfg).log_magnitude(audio)
    assert out.shape == (3, bins, frames) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    if rep == "linear":
        assert M.stft_n_fft(cfg) == 2 * bins


def test_linear_mode_refuses_a_hop_that_skips_samples():
    # cpu preset hop 256 with n_fft = 2 * 64 = 128 would leave gaps between frames
    with pytest.raises(ValueError, match="hop_length"):
        M.SpectrogramTransform(preset("cpu", representation="linear"))


def test_mel_matches_librosa_melspectrogram():
    cfg = preset("cpu")
    y = chirp(cfg)
    ours = M.SpectrogramTransform(cfg).log_magnitude(torch.from_numpy(y))[0].numpy()
    ref = librosa.feature.melspectrogram(y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft,
                                         hop_length=cfg.hop_length, n_mels=cfg.n_mels,
                                         fmin=cfg.fmin, fmax=cfg.fmax, power=1.0)
    assert ref.shape[1] == cfg.n_frames + 1  # centred framing gives one extra frame, dropped
    np.testing.assert_allclose(ours, np.log(ref[:, : cfg.n_frames] + M.EPS), atol=1e-3)


def test_linear_matches_librosa_stft_without_nyquist():
    cfg = preset("paper", representation="linear")
    y = chirp(cfg)
    ours = M.SpectrogramTransform(cfg).log_magnitude(torch.from_numpy(y))[0].numpy()
    ref = np.abs(librosa.stft(y, n_fft=256, hop_length=cfg.hop_length))[:128, :128]
    np.testing.assert_allclose(ours, np.log(ref + M.EPS), atol=1e-3)


# ---------------------------------------------------------------- normalisation

def test_fit_stats_is_per_bin_mean_and_std():
    x = torch.randn(5, 4, 7) * torch.tensor([1.0, 2.0, 3.0, 0.0])[:, None] + torch.arange(4.0)[:, None]
    s = M.fit_stats(x, preset("cpu"))
    flat = x.transpose(0, 1).reshape(4, -1).numpy()
    np.testing.assert_allclose(s.mean, flat.mean(1), atol=1e-5)
    np.testing.assert_allclose(s.std[:3], flat.std(1, ddof=1)[:3], rtol=1e-5)
    assert s.std[3] == 1.0  # a constant bin gets unit std, not a division by zero


def test_normalise_round_trip_inside_clip_range_and_clips_outside():
    cfg = preset("cpu")
    stats = M.SpecStats(mean=torch.linspace(-5, 0, 64), std=torch.linspace(0.5, 2, 64),
                        config=dataclasses.asdict(cfg))
    z = torch.rand(2, 64, 64) * 5.8 - 2.9  # within +-3 std
    log_mag = z * stats.std[:, None] + stats.mean[:, None]
    x = M.normalise(log_mag, stats)
    assert x.abs().max() <= 1.0
    torch.testing.assert_close(x, z / 3.0, atol=1e-5, rtol=0)
    torch.testing.assert_close(M.denormalise(x, stats), log_mag, atol=1e-4, rtol=0)
    far = stats.mean[:, None] + 10 * stats.std[:, None] * torch.ones(64, 64)
    assert torch.all(M.normalise(far, stats) == 1.0)
    # clip_std comes from the stats' config by default
    stats.config["clip_std"] = 2.0
    torch.testing.assert_close(M.normalise(log_mag, stats), (z / 2.0).clamp(-1, 1), atol=1e-5, rtol=0)
    # ... or from a MelsConfig, as the render stage passes it
    torch.testing.assert_close(M.normalise(log_mag, stats.to_dict(), cfg), z / 3.0, atol=1e-5, rtol=0)


# ---------------------------------------------------------------- loading

def test_load_clip_resamples_downmixes_and_trims(tmp_path):
    cfg = preset("cpu")
    left = tone(22050, 2.0, 440.0)
    path = tmp_path / "odd.wav"
    sf.write(path, np.stack([left, left], axis=1), 22050)  # stereo, 22.05 kHz, 2 s
    y, fixes = M.load_clip(path, cfg)
    assert fixes == {"resampled", "downmixed", "trimmed"}
    assert y.shape == (M.n_samples(cfg),) and y.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(y))
    peak_hz = np.argmax(spectrum) * cfg.sample_rate / len(y)
    assert abs(peak_hz - 440.0) < 2.0  # resampled, not just relabelled (would read 440*16000/22050)
    assert 0.4 < np.abs(y).max() < 0.6  # the mean of two equal channels keeps the level


def test_load_clip_pads_short_files_with_trailing_zeros(tmp_path):
    cfg = preset("cpu")
    path = tmp_path / "short.wav"
    sf.write(path, tone(16000, 1.0), 16000, subtype="PCM_16")  # SC09: 16000 < 16384 samples
    y, fixes = M.load_clip(path, cfg)
    assert fixes == {"padded"}
    assert y.shape == (16384,)
    assert np.all(y[16000:] == 0) and np.abs(y[:16000]).max() > 0.4


def test_load_clip_names_an_unreadable_file(tmp_path):
    path = tmp_path / "Zero_bad_nohash_0.wav"
    path.write_bytes(b"not a wav")
    with pytest.raises(ValueError, match="Zero_bad_nohash_0.wav"):
        M.load_clip(path, preset("cpu"))


# ---------------------------------------------------------------- labels

@pytest.mark.parametrize("name,digit,speaker", [
    ("Zero_0a7c2a8d_nohash_0.wav", 0, "0a7c2a8d"),
    ("Seven_b00c4c53_nohash_12.wav", 7, "b00c4c53"),
    ("Nine_espeak-en-f3_nohash_2.wav", 9, "espeak-en-f3"),
])
def test_parse_sc09_name(name, digit, speaker):
    assert M.parse_sc09_name(f"/data/train/{name}") == (digit, speaker)


@pytest.mark.parametrize("name", ["Ten_0a7c2a8d_nohash_0.wav", "Zero_0a7c2a8d_0.wav", "Zero.wav",
                                  "Zero_0a7c2a8d_nohash_0.flac"])
def test_parse_sc09_name_rejects_other_names(name):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        M.parse_sc09_name(name)


# ---------------------------------------------------------------- extraction

def write_sc09(root, cfg: MelsConfig) -> dict[str, list[str]]:
    layout = {"train": [("Zero", "aa"), ("One", "bb"), ("Two", "aa"), ("Nine", "cc")],
              "valid": [("Three", "dd"), ("Four", "dd")],
              "test": [("Five", "ee")]}
    names: dict[str, list[str]] = {}
    for split, items in layout.items():
        (root / split).mkdir(parents=True)
        names[split] = []
        for i, (digit, speaker) in enumerate(items):
            name = f"{digit}_{speaker}_nohash_{i}.wav"
            loud = 0.05 if split == "train" else 0.9  # valid/test louder: stats must ignore them
            y = loud * tone(16000, 1.0, 150.0 * (i + 1), seed=i) / 0.5
            sf.write(root / split / name, y, 16000, subtype="PCM_16")
            names[split].append(name)
    # one stray 22.05 kHz stereo file in train
    y = 0.05 * tone(22050, 1.0, 300.0) / 0.5
    sf.write(root / "train" / "Eight_ff_nohash_0.wav", np.stack([y, y], 1), 22050)
    names["train"] = sorted(names["train"] + ["Eight_ff_nohash_0.wav"])
    return names


def test_extract_mels_end_to_end(tmp_path):
    cfg = preset("cpu", batch_size=2)
    names = write_sc09(tmp_path / "sc09", cfg)
    out = tmp_path / "mels"
    summary = M.extract_mels(tmp_path / "sc09", out, cfg, workers=2)

    assert summary["clips"] == {"train": 5, "valid": 2, "test": 1}
    assert summary["fixes"] == {"resampled": 1, "downmixed": 1, "padded": 8, "trimmed": 0}
    assert sorted(p.name for p in out.iterdir()) == ["stats.pt", "test.pt", "train.pt", "valid.pt"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp dir left behind

    train = torch.load(out / "train.pt")
    assert train["x"].shape == (5, 1, 64, 64) and train["x"].dtype == torch.float32
    assert train["files"] == names["train"]
    assert train["labels"].dtype == torch.int64
    assert train["labels"].tolist() == [8, 9, 1, 2, 0]  # Eight, Nine, One, Two, Zero (sorted names)
    assert train["speakers"] == ["ff", "cc", "bb", "aa", "aa"]
    valid = torch.load(out / "valid.pt")
    assert valid["labels"].tolist() == [4, 3]
    for split in ("train", "valid", "test"):
        x = torch.load(out / f"{split}.pt")["x"]
        assert x.min() >= -1.0 and x.max() <= 1.0

    stats = torch.load(out / "stats.pt", weights_only=False)
    assert stats["config"]["n_mels"] == 64 and stats["mean"].shape == (64,)
    tr = M.SpectrogramTransform(cfg)
    train_audio = np.stack([M.load_clip(tmp_path / "sc09" / "train" / n, cfg)[0] for n in names["train"]])
    expected = M.fit_stats(tr.log_magnitude(torch.from_numpy(train_audio)), cfg)
    torch.testing.assert_close(stats["mean"], expected.mean, atol=1e-4, rtol=0)
    torch.testing.assert_close(stats["std"], expected.std, atol=1e-4, rtol=0)
    # the louder valid clips sit mostly above the train mean: they did not shape the stats
    assert valid["x"].mean() > 0.2

    # a rerun replaces the folder whole
    M.extract_mels(tmp_path / "sc09", out, preset("cpu", batch_size=4))
    assert torch.load(out / "train.pt")["x"].shape == (5, 1, 64, 64)


def write_bad_clips(train):
    """Three clips no one can train on, in the train split: unreadable, empty, silent."""
    (train / "One_xx_nohash_0.wav").write_text("not-a-wav")
    sf.write(train / "Two_yy_nohash_0.wav", np.zeros(0, np.float32), 16000, subtype="PCM_16")
    sf.write(train / "Three_zz_nohash_0.wav", np.zeros(16000, np.float32), 16000, subtype="PCM_16")


@pytest.mark.parametrize("batch_size", [1, 256])  # skips inside a slice and across slices
def test_unreadable_empty_and_silent_clips_are_skipped_and_listed(tmp_path, batch_size, caplog):
    import json
    import logging

    cfg = preset("cpu", batch_size=batch_size, max_failed_share=0.5)
    names = write_sc09(tmp_path / "sc09", cfg)
    write_bad_clips(tmp_path / "sc09" / "train")
    with caplog.at_level(logging.WARNING):
        summary = M.extract_mels(tmp_path / "sc09", tmp_path / "mels", cfg, workers=2)

    assert summary["clips"] == {"train": 5, "valid": 2, "test": 1}
    assert summary["files"] == 11 and summary["failed"] == 3
    assert summary["failed_by_reason"] == {"empty": 1, "silent": 1, "unreadable": 1}
    listed = " ".join(summary["failed_files"])
    for name in ("One_xx_nohash_0.wav", "Two_yy_nohash_0.wav", "Three_zz_nohash_0.wav"):
        assert name in listed
    json.dumps(summary)  # the stage writes it as mels.json
    warned = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped ")]
    assert len(warned) == 3 and all("\n" not in w for w in warned)

    train = torch.load(tmp_path / "mels" / "train.pt")
    # the kept clips only, and x, labels, speakers and files still describe the same clips
    assert train["files"] == names["train"]
    assert train["labels"].tolist() == [8, 9, 1, 2, 0] and train["speakers"] == ["ff", "cc", "bb", "aa", "aa"]
    clean = tmp_path / "clean"
    write_sc09(clean / "sc09", cfg)
    M.extract_mels(clean / "sc09", clean / "mels", cfg, workers=2)
    torch.testing.assert_close(train["x"], torch.load(clean / "mels" / "train.pt")["x"])


def test_load_clip_refuses_empty_and_silent_files(tmp_path):
    cfg = preset("cpu")
    write_bad_clips(tmp_path)
    for name, reason in [("One_xx_nohash_0.wav", "unreadable"), ("Two_yy_nohash_0.wav", "empty"),
                         ("Three_zz_nohash_0.wav", "silent")]:
        with pytest.raises(M.UnusableClip, match=name) as e:
            M.load_clip(tmp_path / name, cfg)
        assert e.value.reason == reason
    quiet = tmp_path / "Four_qq_nohash_0.wav"  # -50 dBFS speech is quiet, not silent
    sf.write(quiet, tone(16000, 1.0) * 10 ** (-50 / 20) / 0.35, 16000, subtype="PCM_16")
    assert M.load_clip(quiet, cfg)[0].any()


def test_too_many_unusable_clips_stop_the_stage_before_it_writes(tmp_path):
    cfg = preset("cpu", max_failed_share=0.2)
    write_sc09(tmp_path / "sc09", cfg)
    write_bad_clips(tmp_path / "sc09" / "train")
    with pytest.raises(ExtractionError) as e:
        M.extract_mels(tmp_path / "sc09", tmp_path / "mels", cfg)  # 3 of 11 > 0.2
    msg = str(e.value)
    assert "3 of 11" in msg and "27%" in msg and "mels.max_failed_share=0.2" in msg and "\n" not in msg
    assert "One_xx_nohash_0.wav" in msg and "fetch_sc09" in msg
    assert not (tmp_path / "mels").exists()


def test_extract_mels_fails_on_missing_split_and_bad_names(tmp_path):
    cfg = preset("cpu")
    (tmp_path / "train").mkdir()
    with pytest.raises(FileNotFoundError, match="valid"):
        M.extract_mels(tmp_path, tmp_path / "out", cfg)
    for s in ("valid", "test"):
        (tmp_path / s).mkdir()
    sf.write(tmp_path / "train" / "hello.wav", tone(16000, 0.1), 16000)
    with pytest.raises(ValueError, match="hello.wav"):
        M.extract_mels(tmp_path, tmp_path / "out", cfg)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- plots of the features

def test_spectrogram_plots_write_pngs(tmp_path):
    from matplotlib.image import imread

    from ganaudio.plots.spectrogram import plot_digit_grid, plot_spectrogram, plot_spectrogram_grid

    x = torch.rand(12, 1, 64, 64) * 2 - 1
    plot_spectrogram(x[0, 0], tmp_path / "one.png", title="one")
    plot_spectrogram_grid(x, tmp_path / "grid.png", titles=[str(i) for i in range(12)], ncols=5)
    plot_digit_grid(x, torch.arange(12) % 10, x[:5], torch.tensor([1, 1, 3, 3, 3]),
                    tmp_path / "digits.png", per_digit=2)
    for name in ("one", "grid", "digits"):
        img = imread(tmp_path / f"{name}.png")
        assert img.shape[0] > 100 and img.std() > 0.05  # drawn, not blank
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.png", "grid.png", "one.png"]
    with pytest.raises(ValueError, match="titles"):
        plot_spectrogram_grid(x, tmp_path / "bad.png", titles=["a"])
    with pytest.raises(ValueError, match="labels"):
        plot_digit_grid(x, torch.arange(3), x, torch.arange(12), tmp_path / "bad.png")
