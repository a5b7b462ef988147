"""Running DVC from a flow: the stage environment, streamed output, and waiting out DVC's lock.

Stage commands in dvc.yaml call `python`, so the environment puts this interpreter's folder
first on PATH. DVC refuses a second `repro` in one workspace ("Unable to acquire lock"): within
one process a per-workspace mutex serialises our own calls, and a lock held by another process
(a manual `dvc repro`, a scheduled run) is waited out and retried.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Optional

from ganaudio.utils.logs import TIMESTAMPS_ENV
from ganaudio.tracking import DEFAULT_TRACKING_URI, PARENT_RUN_ENV

log = logging.getLogger(__name__)

LOCK_MESSAGE = "Unable to acquire lock"
# DVC's advice after a repro, meant for someone at a terminal: `git add dvc.lock ...`, autostage,
# `dvc push`. DVC has no setting to turn it off (core.autostage would commit to the index
# instead), so a flow drops these lines; the hint header's command line follows it.
HINT_HEADERS = re.compile(r"^(To track the changes with git, run:|To enable auto staging, run:)$")
HINT_LINES = re.compile(r"^Use `dvc push` to send your updates to remote storage\.$")
# A progress bar redraws with '\r'; forward at most one redraw per this many seconds.
PROGRESS_EVERY_S = 10.0

_mutexes: dict[Path, threading.Lock] = {}
_mutexes_guard = threading.Lock()


class DvcError(RuntimeError):
    """A DVC command failed; the message ends with the last lines it printed."""


class DvcLockError(DvcError):
    """Another process held the workspace's DVC lock for longer than we waited."""


def tracking_uri(workspace: str | os.PathLike, env: Optional[dict] = None) -> str:
    """The MLflow store the stages will use: MLFLOW_TRACKING_URI, relative sqlite paths resolved in `workspace`."""
    uri = (env if env is not None else os.environ).get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not os.path.isabs(uri[len(prefix):]):
        uri = prefix + str(Path(workspace).resolve() / uri[len(prefix):])
    return uri


def stage_env(workspace: str | os.PathLike, parent_run_id: Optional[str] = None,
              base: Optional[dict] = None) -> dict[str, str]:
    """Environment for stage subprocesses: this Python first on PATH, one MLflow store, the parent run."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = tracking_uri(workspace, env)
    env.pop(PARENT_RUN_ENV, None)
    if parent_run_id:
        env[PARENT_RUN_ENV] = parent_run_id
    # The flow's logger stamps each forwarded line; stages and MLflow then print none of their own.
    env[TIMESTAMPS_ENV] = "0"
    env["MLFLOW_CONFIGURE_LOGGING"] = "false"
    return env


def without_hints(on_line: Callable[[str], None]) -> Callable[[str], None]:
    """`on_line` minus DVC's git/push hints (a header line, then the command it suggests)."""
    skip_next = False

    def forward(line: str) -> None:
        nonlocal skip_next
        text = line.strip()
        if skip_next and text:
            skip_next = False
            if text.startswith(("git add ", "dvc config ")):
                return
        if HINT_HEADERS.match(text):
            skip_next = True
            return
        if not HINT_LINES.match(text):
            on_line(line)

    return forward


def stream(cmd: list[str], cwd: str | os.PathLike, env: dict, on_line: Callable[[str], None],
           keep: int = 40) -> tuple[int, list[str]]:
    """Run `cmd`, passing each output line (stdout and stderr merged) to `on_line` as it comes.

    Returns the exit code and the last `keep` lines. Lines ended by '\\r' (progress bars) are
    forwarded at most every PROGRESS_EVERY_S seconds, so a log gets the bar's state, not every redraw.
    """
    tail: deque[str] = deque(maxlen=keep)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = b""
    last_progress = 0.0

    def emit(raw: bytes, progress: bool) -> None:
        nonlocal last_progress
        line = raw.decode(errors="replace").rstrip()
        if not line:
            return
        if progress:
            now = time.monotonic()
            if now - last_progress < PROGRESS_EVERY_S:
                return
            last_progress = now
        tail.append(line)
        on_line(line)

    assert proc.stdout is not None
    while chunk := proc.stdout.read1(65536):
        buf += chunk
        while True:
            cut = min((i for i in (buf.find(b"\n"), buf.find(b"\r")) if i >= 0), default=-1)
            if cut < 0:
                break
            emit(buf[:cut], progress=buf[cut:cut + 1] == b"\r")
            buf = buf[cut + 1:]
    emit(buf, progress=False)
    return proc.wait(), list(tail)


def _mutex(workspace: Path) -> threading.Lock:
    with _mutexes_guard:
        return _mutexes.setdefault(workspace.resolve(), threading.Lock())


def run_dvc(args: list[str], workspace: str | os.PathLike, env: dict,
            on_line: Callable[[str], None] = log.info, lock_retries: int = 6, lock_wait_s: float = 30.0,
            exclusive: bool = True) -> list[str]:
    """`dvc <args>` in `workspace`; a held lock is retried after a wait.

    exclusive: hold this process's per-workspace mutex (every command that writes the workspace;
    `dvc exp run --temp` works in its own copy and passes False so a sweep runs in parallel).
    """
    workspace = Path(workspace)
    cmd = [sys.executable, "-m", "dvc", *args]
    on_line = without_hints(on_line)
    for attempt in range(lock_retries + 1):
        with _mutex(workspace) if exclusive else contextlib.nullcontext():
            code, tail = stream(cmd, workspace, env, on_line)
        if code == 0:
            return tail
        text = "\n".join(tail)
        if LOCK_MESSAGE not in text:
            raise DvcError(f"`dvc {' '.join(args)}` in {workspace} exited with {code}:\n{text}")
        if attempt < lock_retries:
            on_line(f"DVC lock held by another process; retrying in {lock_wait_s:.0f} s "
                    f"({attempt + 1}/{lock_retries})")
            time.sleep(lock_wait_s)
    raise DvcLockError(f"{workspace}: DVC lock still held after {lock_retries} retries; "
                       f"wait for the other `dvc` process or remove {workspace / '.dvc/tmp/lock'} if it died")


def repro_stage(stage: str, workspace: str | os.PathLike, env: dict, force: bool = False,
                on_line: Callable[[str], None] = log.info, **lock) -> bool:
    """`dvc repro --single-item <stage>`; DVC still decides whether it is up to date. True when it ran."""
    ran = False

    def watch(line: str) -> None:
        nonlocal ran
        ran = ran or line.startswith(f"Running stage '{stage}'")
        on_line(line)

    run_dvc(["repro", "--single-item", *(["--force"] if force else []), stage], workspace, env, watch, **lock)
    return ran


def capture(args: list[str], workspace: str | os.PathLike, env: dict) -> str:
    """stdout of a read-only `dvc <args>` (e.g. `exp show --json`)."""
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=workspace, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise DvcError(f"`dvc {' '.join(args)}` in {workspace} exited with {out.returncode}:\n{out.stderr[-2000:]}")
    return out.stdout
