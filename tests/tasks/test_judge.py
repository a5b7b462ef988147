"""The shared WaveGAN-protocol judge: analysis identical to the mels stage, split chosen by the caller."""

import numpy as np
import pytest
import torch

from ganaudio.models.classifier import DigitClassifier
from ganaudio.tasks.judge import DigitJudge
from tests.tasks.conftest import CFG, tones


@pytest.fixture(scope="module")
def stage_mels(tmp_path_factory):
    """(mels_dir, {valid file name: its samples}) from WAVs in the SC09 layout through `extract_mels`,
    the mels stage's own path; the recordings are shorter and longer than a clip, so it pads and trims."""
    import soundfile as sf

    from ganaudio.data.mels import DIGITS, extract_mels, n_samples

    root, out = tmp_path_factory.mktemp("sc09"), tmp_path_factory.mktemp("stage") / "mels"
    length = n_samples(CFG)
    recorded = {}
    for split, seed in (("train", 0), ("valid", 1), ("test", 2)):
        (root / split).mkdir()
        audio, labels = tones(20, seed)
        for i, (clip, label) in enumerate(zip(audio.numpy(), labels.tolist())):
            clip = np.tile(clip, 2)[:length - 37 + 19 * (i % 5)]  # 37 samples short .. 39 samples long
            name = f"{DIGITS[label]}_s{i}_nohash_0.wav"
            sf.write(root / split / name, clip, CFG.sample_rate, subtype="FLOAT")
            recorded[split, name] = clip
    summary = extract_mels(root, out, CFG, workers=0)
    assert summary["fixes"]["padded"] > 0 and summary["fixes"]["trimmed"] > 0
    kwargs = {"n_bins": CFG.n_mels, "n_frames": CFG.n_frames, "channels": 4}
    torch.save({"state_dict": DigitClassifier(**kwargs).state_dict(), "kwargs": kwargs}, out / "clf.pt")
    return out, {name: clip for (split, name), clip in recorded.items() if split == "valid"}


def test_analysis_of_a_clip_is_what_the_mels_stage_made_of_its_recording(stage_mels):
    """A generator that reproduced a recording, cut to clip length (zeros after a short one), is
    analysed into the very spectrogram the mels stage stored for that recording."""
    mels_dir, recorded = stage_mels
    judge = DigitJudge(mels_dir, mels_dir / "clf.pt", "valid", is_splits=2, ndb_bins=3)
    length = judge.n_samples
    clips = torch.stack([torch.from_numpy(np.pad(recorded[f], (0, max(0, length - len(recorded[f]))))[:length])
                         for f in judge.real.files])
    torch.testing.assert_close(judge.analyse(clips), judge.real.x)


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
