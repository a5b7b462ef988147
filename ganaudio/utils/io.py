"""Writes that never leave a half-written file: temp file in the same folder, then rename.

Temp files and folders are created with the normal modes (0666 / 0777 minus the umask, so
0644 / 0755 under the usual umask 022), not `tempfile`'s private 0600 / 0700: what is renamed
into place is a report, a sample or a checkpoint that other users of the machine may read.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success rename it over `path`, on error delete it.

    For libraries that want a filename (torch.save, soundfile, pretty_midi, matplotlib).
    The temp name keeps the suffix so format-sniffing writers still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_sibling(path.parent, f".{path.stem}.", f".tmp{path.suffix}",
                         lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)))
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def make_temp_dir(parent: str | os.PathLike, prefix: str, suffix: str) -> Path:
    """A new empty folder in `parent` (created if needed) with the umask's normal mode."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    return _fresh_sibling(parent, prefix, suffix, lambda p: os.mkdir(p, 0o777))


def _fresh_sibling(parent: Path, prefix: str, suffix: str, create) -> Path:
    """`create(path)` on a random unused name; the mode given to os.open / os.mkdir meets the umask."""
    for _ in range(100):
        candidate = parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            create(candidate)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{parent}: no free temp name {prefix}*{suffix}; clear old temp files there")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as f:
        return json.load(f)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh folder beside `path`; on success swap it in for `path`, on error delete it.

    A stage that dies half-way leaves the previous output (or none), never a mix of both.
    """
    path = Path(path)
    tmp = make_temp_dir(path.parent, f".{path.name}.", ".tmp")
    try:
        yield tmp
        replace_dir(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename folder `src` to `dst`, moving an existing `dst` aside first and deleting it after."""
    src, dst = Path(src), Path(dst)
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
