"""Torch datasets over the processed files the `notes`, `mels` and `waves` stages write.

Both load the whole split into memory: the embedded sets are tens of MB and even the real
MAESTRO windows or SC09 mels fit comfortably, so a memory-mapped loader would buy nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ganaudio.data.windows import NoteStats
from ganaudio.errors import BadInputError, MissingInputError


def _require(path: Path, stage: str) -> Path:
    if not path.exists():
        raise MissingInputError(f"{path} is missing; run `dvc repro {stage}` first")
    return path


class NoteWindows(Dataset):
    """Normalised note windows as the PianoGAN critic sees them: (channels, seq_len) tensors.

    `encoding` (a `NoteEncoding`, default: all continuous) says which features are one-hot:
    plain (4, L) = (pitch, step, duration, velocity) standardised; a categorical pitch head
    gives (131, L); categorical time adds the step and duration bins. One-hots are made per
    item: for the whole split they would be ~40x the memory of the features.
    """

    def __init__(self, notes_dir: str | Path, split: str = "train", encoding=None):
        from ganaudio.models.pianogan import NoteEncoding

        notes_dir = Path(notes_dir)
        self.encoding = encoding or NoteEncoding()
        self.stats = NoteStats.from_json(_require(notes_dir / "stats.json", "notes"))
        path = _require(notes_dir / f"windows_{split}.npz", "notes")
        with np.load(path) as f:
            raw = f["windows"].astype(np.float32)  # (N, L, 4)
            self.piece_ids = f["piece_ids"]
        self.raw = raw
        norm = np.asarray(self.stats.normalise(raw), dtype=np.float32)
        self.x = torch.from_numpy(norm).transpose(1, 2).contiguous()  # (N, 4, L)
        try:
            self.indices = {k: torch.from_numpy(v) for k, v in self.encoding.indices(raw).items()}  # (N, L)
        except ValueError as e:
            raise BadInputError(f"{path}: {e}; rerun the notes stage") from None

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        if not self.indices:
            return self.x[i]  # (4, L)
        return self.encoding.encode({k: v[i] for k, v in self.indices.items()}, self.x[i])  # (channels, L)

    @property
    def data_shape(self) -> tuple[int, int]:
        return (self.encoding.channels, self.x.shape[2])

    def fingerprint(self) -> str:
        """Content digest of what training sees: the raw windows, their normalisation and encoding."""
        import dataclasses

        from ganaudio.training.identity import fingerprint

        return fingerprint(self.raw, dataclasses.asdict(self.stats), dataclasses.asdict(self.encoding))


class MelClips(Dataset):
    """Normalised spectrograms (1, bins, frames) in [-1, 1], with digit labels."""

    STAGE = "mels"  # the stage that writes <split>.pt

    def __init__(self, mels_dir: str | Path, split: str = "train", with_labels: bool = False):
        path = _require(Path(mels_dir) / f"{split}.pt", self.STAGE)
        blob = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(blob, dict) or not {"x", "labels", "speakers", "files"} <= set(blob):
            raise BadInputError(f"{path}: not a {self.STAGE} stage output (needs x, labels, speakers, files); "
                             f"rebuild it with `dvc repro -f {self.STAGE}`")
        self.x: torch.Tensor = blob["x"].float()  # (N, 1, F, T) or (N, 1, S)
        self.labels: torch.Tensor = blob["labels"].long()  # (N,)
        self.speakers: list[str] = list(blob["speakers"])
        self.files: list[str] = list(blob["files"])
        self.with_labels = with_labels

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i: int):
        return (self.x[i], self.labels[i]) if self.with_labels else self.x[i]

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return tuple(self.x.shape[1:])

    def fingerprint(self) -> str:
        """Content digest of what training sees: the spectrograms (and labels, when it sees them)."""
        from ganaudio.training.identity import fingerprint

        return fingerprint(self.x, self.labels if self.with_labels else None)


class WaveClips(MelClips):
    """Waveforms (1, 16384) in [-1, 1] at the recorded level, with digit labels (the waves stage)."""

    STAGE = "waves"


def load_mel_stats(mels_dir: str | Path) -> dict:
    return torch.load(_require(Path(mels_dir) / "stats.pt", "mels"), weights_only=False)
