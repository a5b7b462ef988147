"""The autoregressive peer of PianoGAN: an LSTM over the same notes, what a user would pick instead.

Each note is four tokens of one step of the sequence: its MIDI pitch (128 classes), its step and
duration on PianoGAN's own log bins (`models.pianogan.time_bin_index`, so both models play from
the same grid of values), and its velocity in 32 bins of 4. The LSTM reads the previous note's
summed embeddings and predicts the next note's four heads. Within a note the heads are
independent given the state, as in the TensorFlow music-generation tutorial's (pitch, step,
duration) model: the sequence carries the order, which is what the peer is here to show.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganaudio.models.pianogan import N_PITCHES, time_bin_index, time_values

VELOCITY_BINS = 32  # MIDI velocity // 4
HEADS = ("pitch", "step", "duration", "velocity")


def tokenize(raw: np.ndarray, time_bins: int) -> np.ndarray:
    """Raw notes (..., 4) = (pitch, step s, duration s, velocity) -> (..., 4) int64 class indices."""
    pitch = np.clip(np.rint(raw[..., 0]), 0, N_PITCHES - 1)
    velocity = np.clip(np.rint(raw[..., 3]), 0, 127) // 4
    return np.stack([pitch.astype(np.int64), time_bin_index("step", time_bins, raw[..., 1]),
                     time_bin_index("duration", time_bins, raw[..., 2]), velocity.astype(np.int64)], -1)


def detokenize(tokens: np.ndarray, time_bins: int) -> np.ndarray:
    """(..., 4) class indices -> raw notes (..., 4) float32: each bin's value (velocity: the bin's middle)."""
    step, duration = time_values("step", time_bins), time_values("duration", time_bins)
    return np.stack([tokens[..., 0].astype(np.float64), step[tokens[..., 1]], duration[tokens[..., 2]],
                     tokens[..., 3] * 4.0 + 2.0], -1).astype(np.float32)


class NoteLSTM(nn.Module):
    def __init__(self, time_bins: int = 32, embed: int = 64, hidden: int = 256, layers: int = 2):
        super().__init__()
        self.sizes = (N_PITCHES, time_bins, time_bins, VELOCITY_BINS)
        self.time_bins = time_bins
        self.embeds = nn.ModuleList(nn.Embedding(size, embed) for size in self.sizes)
        self.start = nn.Parameter(torch.zeros(embed))  # what the first note is predicted from
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True)
        self.heads = nn.ModuleList(nn.Linear(hidden, size) for size in self.sizes)

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, 4) -> (B, T, E): one note's tokens summed into one input vector."""
        return sum(emb(tokens[..., i]) for i, emb in enumerate(self.embeds))

    def forward(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Teacher forcing: (B, L, 4) notes -> per head (B, L, classes) logits of note t from notes < t."""
        x = self._embed(tokens[:, :-1])  # (B, L-1, E)
        x = torch.cat([self.start.expand(len(tokens), 1, -1), x], 1)  # (B, L, E)
        h, _ = self.lstm(x)  # (B, L, H)
        return [head(h) for head in self.heads]

    def loss(self, tokens: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Summed cross-entropy of the four heads (nats per note), and each head's share."""
        parts = {name: nn.functional.cross_entropy(logits.flatten(0, 1), tokens[..., i].flatten())
                 for i, (name, logits) in enumerate(zip(HEADS, self(tokens)))}
        return sum(parts.values()), {f"nll/{k}": float(v.detach()) for k, v in parts.items()}

    @torch.no_grad()
    def sample(self, n: int, length: int, generator: torch.Generator, temperature: float = 1.0) -> torch.Tensor:
        """(n, length, 4) class indices, one note at a time from the model's own previous notes."""
        x = self.start.expand(n, 1, -1)
        state, out = None, []
        for _ in range(length):
            h, state = self.lstm(x, state)  # (n, 1, H)
            note = torch.stack([torch.multinomial((head(h[:, 0]) / temperature).softmax(-1), 1, generator=generator)[:, 0]
                                for head in self.heads], -1)  # (n, 4)
            out.append(note)
            x = self._embed(note[:, None])
        return torch.stack(out, 1)
