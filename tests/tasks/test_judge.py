"""The shared WaveGAN-protocol judge: analysis identical to the mels stage, split chosen by the caller."""

import pytest
import torch

from ganaudio.tasks.judge import DigitJudge

def test_analysis_is_the_mels_stage_analysis(judged):
    mels_dir, audio = judged
    judge = DigitJudge(mels_dir, mels_dir / "clf.pt", "valid", is_splits=2, ndb_bins=3)
    torch.testing.assert_close(judge.analyse(audio["valid"][0]), judge.real.x)


def test_split_decides_what_the_scores_compare_with(judged):
    mels_dir, audio = judged
    on_valid = DigitJudge(mels_dir, mels_dir / "clf.pt", "valid", is_splits=2, ndb_bins=3)
    on_test = DigitJudge(mels_dir, mels_dir / "clf.pt", "test", is_splits=2, ndb_bins=3)
    valid_audio = audio["valid"][0]
    assert on_valid.score_audio(valid_audio)["fid"] < 1e-6  # the valid clips themselves
    assert on_test.score_audio(valid_audio)["fid"] > 100 * max(on_valid.score_audio(valid_audio)["fid"], 1e-9)
    assert torch.equal(on_test.real.labels, audio["test"][1])


def test_train_split_is_refused(judged):
    mels_dir, _ = judged
    with pytest.raises(ValueError, match="train is what the GAN saw"):
        DigitJudge(mels_dir, mels_dir / "clf.pt", "train")
