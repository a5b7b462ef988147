"""DiffAugment for spectrograms: each policy does what it says, per clip, and passes gradients."""

import pytest
import torch

from ganaudio.training.augment import SILENCE, build_augment, cutout, freq_shift, gain, time_shift


def ramp(b=6, f=8, t=16):
    """(B, 1, F, T) with distinct values in (-1, 1): value encodes (clip, bin, frame)."""
    return (torch.arange(b * f * t, dtype=torch.float32).view(b, 1, f, t) / (b * f * t)) * 1.8 - 0.9


def test_time_shift_moves_each_clip_by_a_whole_number_of_frames():
    torch.manual_seed(0)
    x = ramp()
    y = time_shift(x)
    for b in range(len(x)):
        row_x, row_y = x[b, 0, 0], y[b, 0, 0]
        kept = row_y != SILENCE
        # the surviving frames are a contiguous run of the original, in order
        idx = torch.searchsorted(row_x, row_y[kept])
        assert torch.equal(row_x[idx], row_y[kept]) and (idx.diff() == 1).all()
        assert (~kept).sum() <= 16 // 8  # at most 1/8 of the frames shifted out
        # every bin of a clip moves by the same amount
        assert torch.equal(y[b, 0, :, kept] != SILENCE, torch.ones_like(y[b, 0, :, kept], dtype=torch.bool))


def test_shifts_differ_between_clips():
    torch.manual_seed(1)
    x = ramp(b=32).clone()
    x[:] = x[0]  # identical clips
    y = time_shift(x)
    assert len({tuple(c.flatten().tolist()) for c in y}) > 1


def test_freq_shift_moves_bins_and_needs_2d_inputs():
    torch.manual_seed(0)
    x = ramp(f=32)
    y = freq_shift(x)
    col_x, col_y = x[:, 0, :, 0], y[:, 0, :, 0]
    for b in range(len(x)):
        kept = col_y[b] != SILENCE
        assert (~kept).sum() <= 32 // 16
        assert set(col_y[b][kept].tolist()) <= set(col_x[b].tolist())
    with pytest.raises(ValueError, match="needs \\(B, C, F, T\\)"):
        freq_shift(torch.zeros(2, 3, 16))


def test_cutout_silences_one_time_band_and_one_frequency_band():
    torch.manual_seed(0)
    x = ramp(f=16, t=16)
    y = cutout(x)
    for b in range(len(x)):
        silent = y[b, 0] == SILENCE
        cols = silent.all(0).nonzero().flatten()  # frames silent across all bins
        rows = silent.all(1).nonzero().flatten()
        assert len(cols) == 4 and (cols.diff() == 1).all()
        assert len(rows) == 4 and (rows.diff() == 1).all()
        outside = ~silent
        assert torch.equal(y[b, 0][outside], x[b, 0][outside])


def test_gain_adds_one_bounded_offset_per_clip():
    torch.manual_seed(0)
    x = ramp()
    d = gain(x) - x
    per_clip = d.flatten(1)
    assert torch.allclose(per_clip, per_clip[:, :1].expand_as(per_clip), atol=1e-6)
    assert per_clip.abs().max() <= 0.2 + 1e-6


def test_augment_chain_passes_gradients_and_works_on_1d():
    torch.manual_seed(0)
    aug = build_augment(["time", "cutout", "gain"])
    x = torch.randn(4, 3, 32, requires_grad=True)  # (B, C, T): PianoGAN-shaped
    aug(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert build_augment([]) is None
