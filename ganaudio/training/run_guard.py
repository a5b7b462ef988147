"""One trainer per run folder, and no trainer outliving the `dvc repro` that started it.

- `RunLock`: an exclusive `flock` on `<run_dir>/.train.lock`, held for the whole run. The kernel
  drops it when the process dies however it dies, so a crash never leaves a stale lock; a
  second trainer for the same folder waits a little (an orphan about to stop) and then fails
  with a one-line error naming the PID holding it.
- `ParentWatch`: DVC runs a stage's command as a child; when `dvc` is killed the trainer is
  orphaned and would keep writing into the folder the next `dvc repro` trains into. Under DVC
  (DVC_STAGE is set), the loop asks after every step whether its parent changed, and if so saves
  a checkpoint and stops.
- `clean_stale_temp_files`: a kill during an atomic write leaves a `.name.*.tmp*` file behind.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

from ganaudio.errors import GanaudioError

log = logging.getLogger(__name__)
LOCK_NAME = ".train.lock"


class RunBusy(GanaudioError):
    """Another live process is training into the same folder."""


class RunLock:
    def __init__(self, run_dir: str | Path, wait_s: float = 60.0, poll_s: float = 0.5):
        self.path = Path(run_dir) / LOCK_NAME
        self.wait_s, self.poll_s = wait_s, poll_s
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    os.close(fd)
                    raise RunBusy(f"{self.path.parent}: another trainer (PID {holder}) is training into this folder; "
                                  f"wait for it to finish or stop it (kill {holder}), then rerun") from None
                time.sleep(self.poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ParentWatch:
    """`orphaned()` is True once the process that started us is gone (only under DVC by default)."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = ("DVC_STAGE" in os.environ) if enabled is None else enabled
        self.parent = os.getppid()

    def orphaned(self) -> bool:
        return self.enabled and os.getppid() != self.parent


def clean_stale_temp_files(run_dir: str | Path) -> list[Path]:
    """Delete the temp files of interrupted atomic writes (`.<stem>.<random>.tmp<suffix>`) under run_dir."""
    removed = []
    for path in Path(run_dir).rglob(".*.tmp*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.info("removed %d temp file(s) left by an interrupted write: %s", len(removed),
                 ", ".join(p.name for p in removed[:3]))
    return removed
