"""Waveform PNGs: written whole, checked inputs, a blank slot where the generator never says a digit."""

import pytest
import torch

from ganaudio.plots.waveform import plot_waveform, plot_waveform_grid, plot_waveform_pairs

SR = 16000


def is_png(path) -> bool:
    return path.read_bytes()[:4] == b"\x89PNG"


def test_one_clip_with_and_without_its_spectrogram(tmp_path):
    y = torch.sin(torch.arange(1600) / 5) * 0.5
    plot_waveform(y, torch.rand(1, 8, 8) * 2 - 1, tmp_path / "a.png", SR, title="a")
    plot_waveform(y, None, tmp_path / "b.png", SR)
    assert is_png(tmp_path / "a.png") and is_png(tmp_path / "b.png")
    assert (tmp_path / "a.png").stat().st_size > (tmp_path / "b.png").stat().st_size  # two panels vs one


def test_grid_checks_titles_and_emptiness(tmp_path):
    plot_waveform_grid(torch.rand(5, 1, 800) - 0.5, tmp_path / "g.png", SR, titles=list("abcde"), ncols=2)
    assert is_png(tmp_path / "g.png")
    with pytest.raises(ValueError, match="2 titles for 5 waveforms"):
        plot_waveform_grid(torch.rand(5, 800), tmp_path / "x.png", SR, titles=["a", "b"])
    with pytest.raises(ValueError, match="0 waveforms"):
        plot_waveform_grid(torch.zeros(0, 800), tmp_path / "x.png", SR)
    assert not (tmp_path / "x.png").exists()


def test_pairs_need_as_many_labels_as_clips(tmp_path):
    real, fake = torch.rand(10, 1, 400) - 0.5, torch.rand(3, 400) - 0.5
    plot_waveform_pairs(real, torch.arange(10), fake, torch.tensor([1, 1, 7]), tmp_path / "p.png", SR)
    assert is_png(tmp_path / "p.png")
    with pytest.raises(ValueError, match="fake 3/2"):
        plot_waveform_pairs(real, torch.arange(10), fake, torch.tensor([1, 7]), tmp_path / "q.png", SR)
