"""Train the digit classifier that scores SpectoGAN (ganaudio.models.classifier).

A plain supervised loop, separate from the GAN loop: Adam, early stopping on validation
accuracy, best weights kept, one checkpoint (state dict + constructor args) written atomically.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset
from tqdm.auto import tqdm

from ganaudio.config import ClassifierConfig
from ganaudio.errors import BadInputError, MissingInputError
from ganaudio.models.classifier import DigitClassifier, spec_augment
from ganaudio.utils.io import atomic_path
from ganaudio.tracking import Tracker


def _tensors(ds: Dataset, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) of a TensorDataset, or of any dataset of (x, y) pairs, stacked once."""
    if isinstance(ds, TensorDataset):
        x, y = ds.tensors[0], ds.tensors[1]
    else:
        batches = list(DataLoader(ds, batch_size=1024))
        if not batches:
            raise BadInputError(f"train_classifier: the {name} set is empty; check the mels stage output")
        x, y = torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])
    if len(x) == 0:
        raise BadInputError(f"train_classifier: the {name} set is empty; check the mels stage output")
    if x.dim() != 4 or x.shape[1] != 1:
        raise BadInputError(f"train_classifier: {name} x has shape {tuple(x.shape)}; "
                         "expected (N, 1, n_bins, n_frames) log-mels from the mels stage")
    return x.float(), y.long()


@torch.no_grad()
def accuracy(model: DigitClassifier, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> float:
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        logits = model(x[i:i + batch_size].to(device))
        correct += (logits.argmax(1).cpu() == y[i:i + batch_size]).sum().item()
    return correct / len(x)


def train_classifier(train: Dataset, valid: Dataset, test: Dataset, cfg: ClassifierConfig,
                     out_path: str | os.PathLike, *, device: str | torch.device = "cpu",
                     tracker: Tracker = Tracker(), progress: bool = True) -> dict:
    """Fit a DigitClassifier, keep the weights with the best valid accuracy, save them to out_path.

    Stops after cfg.patience epochs without a new best valid accuracy. Returns
    {"test_accuracy", "valid_accuracy", "epochs", "seconds"} (accuracies of the kept weights).
    """
    start = time.time()
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = (_tensors(train, "train"), _tensors(valid, "valid"),
                                                _tensors(test, "test"))
    _, _, n_bins, n_frames = x_tr.shape
    for name, x in (("valid", x_va), ("test", x_te)):
        if tuple(x.shape[2:]) != (n_bins, n_frames):
            raise BadInputError(f"train_classifier: {name} spectrograms are {tuple(x.shape[2:])}, train are "
                             f"{(n_bins, n_frames)}; make all splits with one mels config")
    n_classes = 10
    if int(y_tr.max()) >= n_classes or int(y_tr.min()) < 0:
        raise BadInputError(f"train_classifier: labels span {int(y_tr.min())}..{int(y_tr.max())}; expected digits 0..9")

    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    model = DigitClassifier(n_bins, n_frames, channels=cfg.channels, n_classes=n_classes).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)  # shuffling and augmentation, apart from init

    best_acc, best_state, best_epoch, epoch = -1.0, None, 0, 0
    bar = tqdm(range(1, cfg.epochs + 1), desc="classifier", disable=not progress)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(x_tr), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            if len(idx) < 2 and seen:  # BatchNorm cannot train on a batch of one
                continue
            xb = x_tr[idx]
            if cfg.augment:
                xb = spec_augment(xb, generator=gen)
            loss = F.cross_entropy(model(xb.to(device)), y_tr[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        valid_acc = accuracy(model, x_va, y_va)
        tracker.log_metrics({"train/loss": total / seen, "valid/accuracy": valid_acc}, step=epoch)
        bar.set_postfix(loss=f"{total / seen:.3f}", valid=f"{valid_acc:.3f}")
        if valid_acc > best_acc:
            best_acc, best_epoch = valid_acc, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= cfg.patience:
            break
    bar.close()

    model.load_state_dict(best_state)
    test_acc = accuracy(model, x_te, y_te)
    tracker.log_metrics({"test/accuracy": test_acc, "valid/best_accuracy": best_acc}, step=epoch)
    with atomic_path(out_path) as tmp:
        torch.save({"state_dict": {k: v.cpu() for k, v in best_state.items()}, "kwargs": model.kwargs,
                    "valid_accuracy": best_acc, "test_accuracy": test_acc, "epoch": best_epoch}, tmp)
    return {"test_accuracy": test_acc, "valid_accuracy": best_acc, "epochs": epoch,
            "seconds": time.time() - start}


def load_classifier(path: str | os.PathLike, device: str | torch.device = "cpu") -> DigitClassifier:
    """Rebuild the checkpointed classifier, in eval mode, on `device`."""
    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"{path}: no classifier checkpoint; run the classifier stage first")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or "state_dict" not in blob or "kwargs" not in blob:
        raise BadInputError(f"{path}: not a classifier checkpoint (no state_dict/kwargs); retrain the classifier")
    model = DigitClassifier(**blob["kwargs"])
    model.load_state_dict(blob["state_dict"])
    return model.to(device).eval()
