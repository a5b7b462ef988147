"""An LSTM over notes: PianoGAN's autoregressive peer, and the core of its recurrent generator.

Each note is one step of the sequence: its MIDI pitch (128 classes), its step and duration on
PianoGAN's own log bins (`models.pianogan.time_bin_index`, so both models play from the same
grid), and its velocity as a standardised value (the notes stage's NoteStats). The LSTM reads
the previous note (summed embeddings; a one-hot or soft vector embeds as a matrix product, so
a generator can feed back its own straight-through samples) and predicts the next note's
pitch, step and duration classes and its velocity. Within a note the heads are independent
given the state, as in the TensorFlow music-generation tutorial's (pitch, step, duration)
model: the sequence carries the order.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganaudio.models.pianogan import N_PITCHES, time_bin_index, time_values

HEADS = ("pitch", "step", "duration")  # the categorical heads; velocity is a regression head


def tokenize(raw: np.ndarray, time_bins: int) -> np.ndarray:
    """Raw notes (..., 4) = (pitch, step s, duration s, velocity) -> (..., 3) int64 classes of the heads."""
    pitch = np.clip(np.rint(raw[..., 0]), 0, N_PITCHES - 1).astype(np.int64)
    return np.stack([pitch, time_bin_index("step", time_bins, raw[..., 1]),
                     time_bin_index("duration", time_bins, raw[..., 2])], -1)


def detokenize(tokens: np.ndarray, velocity: np.ndarray, time_bins: int) -> np.ndarray:
    """(..., 3) classes and (...) raw velocities -> raw notes (..., 4) float32, each bin at its value."""
    step, duration = time_values("step", time_bins), time_values("duration", time_bins)
    vel = np.clip(np.rint(velocity), 1, 127)
    return np.stack([tokens[..., 0].astype(np.float64), step[tokens[..., 1]], duration[tokens[..., 2]], vel],
                    -1).astype(np.float32)


class NoteLSTM(nn.Module):
    def __init__(self, time_bins: int = 32, embed: int = 64, hidden: int = 256, layers: int = 2):
        super().__init__()
        self.sizes = (N_PITCHES, time_bins, time_bins)
        self.time_bins, self.hidden, self.layers = time_bins, hidden, layers
        self.embeds = nn.ModuleList(nn.Embedding(size, embed) for size in self.sizes)
        self.velocity_in = nn.Linear(1, embed)
        self.start = nn.Parameter(torch.zeros(embed))  # what the first note is predicted from
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True)
        self.heads = nn.ModuleList(nn.Linear(hidden, size) for size in self.sizes)
        self.velocity_out = nn.Linear(hidden, 1)

    def embed(self, classes: list[torch.Tensor], velocity: torch.Tensor) -> torch.Tensor:
        """Per head (..., K) one-hot (or soft) vectors or (...) class indices, and (...) velocity -> (..., E)."""
        parts = [emb(c) if not c.is_floating_point() else c @ emb.weight for c, emb in zip(classes, self.embeds)]
        return sum(parts) + self.velocity_in(velocity[..., None])

    def step(self, x: torch.Tensor, state=None):
        """One note: (B, E) input -> [per head (B, K) logits], (B,) velocity, new state."""
        out, state = self.lstm(x[:, None], state)  # (B, 1, H)
        h = out[:, 0]
        return [head(h) for head in self.heads], self.velocity_out(h)[:, 0], state

    def forward(self, tokens: torch.Tensor, velocity: torch.Tensor):
        """Teacher forcing: (B, L, 3) classes and (B, L) velocities -> per head (B, L, K) logits and (B, L)
        velocity predictions for note t from notes < t."""
        x = self.embed(list(tokens[:, :-1].unbind(-1)), velocity[:, :-1])  # (B, L-1, E)
        x = torch.cat([self.start.expand(len(tokens), 1, -1), x], 1)  # (B, L, E)
        h, _ = self.lstm(x)  # (B, L, H)
        return [head(h) for head in self.heads], self.velocity_out(h)[..., 0]

    def loss(self, tokens: torch.Tensor, velocity: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Cross-entropy of the three heads (nats per note) plus the velocity's squared error."""
        logits, vel = self(tokens, velocity)
        parts = {name: nn.functional.cross_entropy(lg.flatten(0, 1), tokens[..., i].flatten())
                 for i, (name, lg) in enumerate(zip(HEADS, logits))}
        parts["velocity"] = nn.functional.mse_loss(vel, velocity)
        return sum(parts.values()), {f"nll/{k}": float(v.detach()) for k, v in parts.items()}

    def unroll(self, length: int, pick, state=None, n: int = 1):
        """Play `length` notes, each from the notes before it: the one loop behind sampling and the
        recurrent generator. `pick(logits (B, K)) -> (B,) classes or (B, K) one-hots` chooses each
        head's value; `state` (h0, c0) or None; the first note is predicted from the learned start.
        Returns per note [per head picks], (B,) velocity and [per head (B, K) logits]."""
        x = self.start.expand(n, -1)
        picks, velocities, logits = [], [], []
        for _ in range(length):
            lg, vel, state = self.step(x, state)
            note = [pick(g) for g in lg]
            picks.append(note)
            velocities.append(vel)
            logits.append(lg)
            x = self.embed(note, vel)
        return picks, velocities, logits

    @torch.no_grad()
    def sample(self, n: int, length: int, generator: torch.Generator,
               temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, length, 3) classes and (n, length) velocities, one note at a time from its own previous notes."""
        draw = lambda lg: torch.multinomial((lg / temperature).softmax(-1), 1, generator=generator)[:, 0]  # noqa: E731
        picks, velocities, _ = self.unroll(length, draw, n=n)
        return torch.stack([torch.stack(note, -1) for note in picks], 1), torch.stack(velocities, 1)
