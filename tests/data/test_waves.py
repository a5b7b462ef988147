"""SC09 WAV -> waveforms: the mels stage's clips, order, labels and loading; recorded level kept; clipping counted."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from ganaudio.data import mels as M
from ganaudio.data.waves import extract_waves
from test_mels import preset, tone, write_bad_clips, write_sc09


def test_waves_hold_the_mels_stage_clips_in_the_same_order_with_the_same_labels(tmp_path):
    cfg = preset("cpu")
    names = write_sc09(tmp_path / "sc09", cfg)
    # a float WAV reaching past full scale: clipped to the generator's tanh range, and counted
    sf.write(tmp_path / "sc09" / "valid" / "Six_gg_nohash_0.wav", 3.0 * tone(16000, 0.5, 220.0), 16000, subtype="FLOAT")
    M.extract_mels(tmp_path / "sc09", tmp_path / "mels", cfg)
    summary = extract_waves(tmp_path / "sc09", tmp_path / "waves", cfg)

    assert summary["clips"] == {"train": 5, "valid": 3, "test": 1}
    assert summary["fixes"] == {"resampled": 1, "downmixed": 1, "padded": 9, "trimmed": 0}
    assert summary["clipped"] == {"train": 0, "valid": 1, "test": 0}
    assert summary["shape"] == [1, 16384]
    for split in ("train", "valid", "test"):
        waves, mels = torch.load(tmp_path / "waves" / f"{split}.pt"), torch.load(tmp_path / "mels" / f"{split}.pt")
        assert waves["files"] == mels["files"] and waves["speakers"] == mels["speakers"]
        assert torch.equal(waves["labels"], mels["labels"])
        assert waves["x"].shape == (len(mels["files"]), 1, 16384) and waves["x"].dtype == torch.float32
        assert waves["x"].abs().max() <= 1.0
    train = torch.load(tmp_path / "waves" / "train.pt")
    assert train["files"] == names["train"]
    # exactly what the shared loader gives: no rescaling, so the judge hears the recorded level
    for row, name in zip(train["x"], names["train"]):
        np.testing.assert_array_equal(row[0].numpy(), M.load_clip(tmp_path / "sc09" / "train" / name, cfg)[0])
    assert 0.04 < float(train["x"].abs().amax(dim=2).median()) < 0.06  # written at 0.05 peak, kept there


def test_missing_split_fails_before_anything_is_written(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(FileNotFoundError, match="valid: split folder missing"):
        extract_waves(tmp_path, tmp_path / "out", preset("cpu"))
    assert not (tmp_path / "out").exists()


def test_unusable_clips_are_skipped_like_the_mels_stage_skips_them(tmp_path):
    """Waves and mels hold the same clips row for row, so a clip mels leaves out waves leaves out too."""
    cfg = preset("cpu", max_failed_share=0.5)
    write_sc09(tmp_path / "sc09", cfg)
    write_bad_clips(tmp_path / "sc09" / "train")
    M.extract_mels(tmp_path / "sc09", tmp_path / "mels", cfg)
    summary = extract_waves(tmp_path / "sc09", tmp_path / "waves", cfg)
    assert summary["failed"] == 3 and summary["failed_by_reason"] == {"empty": 1, "silent": 1, "unreadable": 1}
    for split in ("train", "valid", "test"):
        waves, mels = torch.load(tmp_path / "waves" / f"{split}.pt"), torch.load(tmp_path / "mels" / f"{split}.pt")
        assert waves["files"] == mels["files"] and torch.equal(waves["labels"], mels["labels"])
        assert len(waves["x"]) == len(waves["files"])
    with pytest.raises(Exception, match="mels.max_failed_share"):
        extract_waves(tmp_path / "sc09", tmp_path / "strict", preset("cpu", max_failed_share=0.1))
