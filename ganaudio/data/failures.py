"""One policy for the input files a data stage cannot use, shared by the notes and mels stages.

A file is skipped when it is unreadable, empty (no samples, no notes), silent, or drums only.
Each skip is one warning line naming the file, and the stage's metrics JSON counts and lists
them: `files` (all inputs), `failed`, `failed_by_reason` and `failed_files`. Every reason counts
towards the stage's `max_failed_share`: above it the stage stops, before writing anything,
with one line naming the share, the first few files and the fix. A few bad files in a corpus
of thousands are normal; a large share means the wrong folder or a broken download.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from ganaudio.errors import GanaudioError

log = logging.getLogger(__name__)

SHOWN = 3  # files named in the error line


class ExtractionError(GanaudioError, RuntimeError):
    """Too many files failed, or the dataset folder is not usable."""


@dataclass
class Skipped:
    """The files a stage left out and why. `param` names the limit (e.g. "mels.max_failed_share"),
    `fix` says how to get good files back."""

    param: str
    fix: str
    files: list[str] = field(default_factory=list)  # "path: why", one per skipped file
    reasons: Counter = field(default_factory=Counter)
    _short: list[str] = field(default_factory=list)  # "name (reason)", for the error line

    def add(self, reason: str, path: str, message: str) -> None:
        """`reason` is a key of failed_by_reason (unreadable, empty, silent, drums_only);
        `message` one line starting with the file's path."""
        self.files.append(message)
        self._short.append(f"{path} ({reason})")
        self.reasons[reason] += 1
        log.warning("skipped %s", message)

    def check(self, total: int, max_share: float, where: str) -> None:
        """Raise ExtractionError when more than `max_share` of `total` files were skipped."""
        n = len(self.files)
        if n == 0 or n <= max_share * total:
            return
        first = ", ".join(self._short[:SHOWN]) + (", …" if n > SHOWN else "")
        raise ExtractionError(
            f"{where}: {n} of {total} files ({n / total:.0%}) are unusable, above {self.param}="
            f"{max_share:g} ({_counts(self.reasons)}; first: {first}); {self.fix}, or raise "
            f"{self.param} to accept them")

    def summary(self, total: int) -> dict:
        return {"files": total, "failed": len(self.files), "failed_by_reason": dict(sorted(self.reasons.items())),
                "failed_files": list(self.files)}


def _counts(reasons: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
