"""Spoken-digit classifier on normalised log-mels: the judge behind Inception score and FID.

Like WaveGAN's SC09 classifier, it is trained on real data only and then scores generated
spectrograms: softmax outputs for the Inception score, penultimate features for FID, NDB/k and
nearest-neighbour distances. It sees exactly the tensors SpectoGAN produces, (B, 1, n_bins,
n_frames) in [-1, 1], so no inversion to audio sits between the generator and the metric.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    # ceil_mode keeps a 1-pixel map at 1 instead of 0, so tiny inputs still pass all blocks
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True), nn.MaxPool2d(2, ceil_mode=True))


class DigitClassifier(nn.Module):
    def __init__(self, n_bins: int, n_frames: int, channels: int = 32, n_classes: int = 10,
                 feature_dim: int = 128, dropout: float = 0.3):
        super().__init__()
        # kept for the checkpoint, so load_classifier can rebuild the same network
        self.kwargs = dict(n_bins=n_bins, n_frames=n_frames, channels=channels, n_classes=n_classes,
                           feature_dim=feature_dim, dropout=dropout)
        widths = [channels * m for m in (1, 1, 2, 4)]  # cheap at full resolution, wide deep down
        blocks, c_in = [], 1
        for c_out in widths:
            blocks.append(conv_block(c_in, c_out))
            c_in = c_out
        self.body = nn.Sequential(*blocks)
        # global average and max pooling, concatenated: (B, C, H, W) -> (B, 2C)
        self.penultimate = nn.Sequential(nn.Linear(2 * c_in, feature_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, n_classes)

    def _check(self, x: torch.Tensor) -> None:
        want = (1, self.kwargs["n_bins"], self.kwargs["n_frames"])
        if x.dim() != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"DigitClassifier: input has shape {tuple(x.shape)}, expected (B, {', '.join(map(str, want))}); "
                             "use spectrograms made with the same mels config as the classifier's training data")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (B, feature_dim): the space for FID, NDB/k and NN distances."""
        self._check(x)
        h = self.body(x)  # (B, C, H', W')
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)  # (B, 2C)
        return self.penultimate(pooled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))  # (B, n_classes) logits


def spec_augment(x: torch.Tensor, generator: Optional[torch.Generator] = None, max_shift: int = 4,
                 max_freq_mask: int = 8, max_time_mask: int = 8) -> torch.Tensor:
    """Light train-time augmentation: a circular time shift, one frequency and one time mask.

    Masks fill with each example's mean rather than 0 or -1: in the normalised space 0 is the
    per-bin average level and -1 is clipped silence, and either would be a visible artefact.
    Mask widths are capped at a quarter of the axis so tiny test inputs keep their content.
    """
    b, _, n_bins, n_frames = x.shape  # (B, 1, F, T)
    randint = lambda high, size: torch.randint(0, high, size, generator=generator)
    shifts = randint(2 * max_shift + 1, (b,)) - max_shift  # (B,)
    source = (torch.arange(n_frames)[None] - shifts[:, None]) % n_frames  # (B, T): torch.roll per row
    out = torch.gather(x, 3, source.to(x.device).view(b, 1, 1, n_frames).expand_as(x))
    fill = out.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    for size, cap, dim in ((n_bins, max_freq_mask, 2), (n_frames, max_time_mask, 3)):
        width = randint(min(cap, size // 4) + 1, (b,))  # (B,)
        start = (torch.rand(b, generator=generator) * (size - width + 1)).long()
        pos = torch.arange(size)
        mask = (pos[None] >= start[:, None]) & (pos[None] < (start + width)[:, None])  # (B, size)
        mask = mask.view(b, 1, size, 1) if dim == 2 else mask.view(b, 1, 1, size)
        out = torch.where(mask.to(x.device), fill, out)
    return out


@torch.no_grad()
def predict(model: DigitClassifier, x: torch.Tensor, batch_size: int = 256,
            progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities (N, n_classes) and features (N, feature_dim), on the CPU, in eval mode.

    Batches run on the model's device; `x` may stay on the CPU (50k generated spectrograms
    need not fit on a GPU at once).
    """
    from tqdm.auto import tqdm

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    probs, feats = [], []
    for i in tqdm(range(0, len(x), batch_size), desc="classify", disable=not progress, leave=False):
        f = model.features(x[i:i + batch_size].to(device, torch.float32))
        probs.append(torch.softmax(model.head(f), dim=1).cpu())
        feats.append(f.cpu())
    model.train(was_training)
    return torch.cat(probs), torch.cat(feats)
