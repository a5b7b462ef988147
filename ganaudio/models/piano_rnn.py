"""PianoGAN's recurrent generator: notes drawn one at a time, each given the ones before it.

Why: the convolutional generator draws every note of a window independently from its own
softmax, so whatever order its logits hold, the draws erase it (measured: order score below real
notes in random order, per-note pitch entropy 3.2 nats); a deterministic pick instead (argmax,
or the softmax shown to the critic) collapsed to one pitch class in the minutes a CPU run has.
Here the draw of note t is conditioned on the notes already drawn, as in sequence GANs (SeqGAN,
RelGAN), so sampling noise and order no longer fight.

The core is the autoregressive peer's network (`models.note_lstm.NoteLSTM`); z sets its initial
state. In training each note is a straight-through Gumbel-softmax one-hot (hard forward, soft
gradient), fed back by its embedding as a matrix product, so the critic's gradient reaches every
earlier step. The critic sees the same (pitch one-hot, step bins, duration bins, velocity) input
as for the convolutional generator, so the critic, the loss and the loop are unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaudio.config import PianoGANModelConfig
from ganaudio.models.note_lstm import NoteLSTM
from ganaudio.models.pianogan import NoteEncoding, apply_pitch_range_prior, register_values

GROUPS = ("pitch", "step", "duration")  # NoteLSTM's heads, in FEATURES order


class PianoRNNGenerator(nn.Module):
    def __init__(self, cfg: PianoGANModelConfig, values: dict[str, torch.Tensor] | None = None,
                 pitch_range: tuple[int, int] | None = None):
        """`values` {name: (classes,)}: the standardised value of each class (buffers, as in
        PianoGenerator). No key prior: the recurrence carries the key from note to note."""
        super().__init__()
        self.encoding = NoteEncoding.of(cfg)
        if not (self.encoding.pitch_one_hot and self.encoding.time_bins):
            raise ValueError("pianogan.model.generator rnn needs pitch_head and time_head categorical")
        self.latent_dim, self.seq_len, self.tau = cfg.latent_dim, cfg.seq_len, cfg.gumbel_tau
        self.pitch_sampling = cfg.pitch_sampling
        self.core = NoteLSTM(time_bins=cfg.time_bins, embed=cfg.rnn_embed, hidden=cfg.rnn_hidden, layers=cfg.rnn_layers)
        self.init_state = nn.Linear(cfg.latent_dim, 2 * cfg.rnn_layers * cfg.rnn_hidden)  # z -> (h0, c0)
        if cfg.pitch_range_prior and pitch_range is not None:
            apply_pitch_range_prior(self.core.heads[0].bias, pitch_range)
        register_values(self, zip(GROUPS, self.core.sizes), values)

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator, device=device)  # (B, Z)

    def _state(self, z: torch.Tensor):
        hc = torch.tanh(self.init_state(z)).view(len(z), 2, self.core.layers, self.core.hidden)
        return hc[:, 0].transpose(0, 1).contiguous(), hc[:, 1].transpose(0, 1).contiguous()  # (layers, B, H) each

    def _run(self, z: torch.Tensor, pick) -> tuple[list[torch.Tensor], torch.Tensor, list[torch.Tensor]]:
        """Unroll seq_len notes; `pick(logits (B, K)) -> (B, K)` one-hot. Returns per head (B, K, L)
        picks, (B, L) velocities and per head (B, K, L) logits."""
        picks, vels, logits = self.core.unroll(self.seq_len, pick, state=self._state(z), n=len(z))
        stack = lambda seq: [torch.stack(group, -1) for group in zip(*seq)]  # noqa: E731
        return stack(picks), torch.stack(vels, -1), stack(logits)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """What the critic sees: (B, NoteEncoding.channels, L). Training: straight-through Gumbel-softmax
        draws; eval mode: each note the argmax given the notes before it."""
        if self.training:
            pick = lambda lg: nn.functional.gumbel_softmax(lg, tau=self.tau, hard=True, dim=-1)  # noqa: E731
        else:
            pick = lambda lg: nn.functional.one_hot(lg.argmax(-1), lg.shape[-1]).to(lg.dtype)  # noqa: E731
        hot, vel, _ = self._run(z, pick)
        return torch.cat([*hot, vel[:, None]], 1)  # (B, 128 + 2·bins + 1, L) in FEATURES order

    def logits(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """{name: (B, K, L)} logits of each note along the argmax path (what head_entropy measures)."""
        _, _, lg = self._run(z, lambda g: nn.functional.one_hot(g.argmax(-1), g.shape[-1]).to(g.dtype))
        return dict(zip(GROUPS, lg))

    def features(self, z: torch.Tensor, sampling: str | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 4, L) standardised (pitch, step, duration, velocity): each note drawn from its softmax
        given the notes before it (`generator` seeds the draws), or its argmax."""
        sampling = sampling or self.pitch_sampling
        if sampling not in ("softmax", "argmax"):
            raise ValueError(f"pitch sampling {sampling!r}: use 'softmax' or 'argmax'")

        def pick(lg: torch.Tensor) -> torch.Tensor:
            lg = lg.float()
            idx = lg.argmax(-1) if sampling == "argmax" else torch.multinomial(lg.softmax(-1), 1, generator=generator)[:, 0]
            return nn.functional.one_hot(idx, lg.shape[-1]).to(lg.dtype)

        hot, vel, _ = self._run(z, pick)
        values = [h.argmax(1) for h in hot]  # (B, L) class of each note
        cols = [getattr(self, f"{name}_values").float()[v] for name, v in zip(GROUPS, values)]
        return torch.stack([*cols, vel.float()], 1)  # (B, 4, L), FEATURES order
