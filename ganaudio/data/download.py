"""Getting official archives onto disk safely: resumable HTTP download and guarded extraction.

`download` streams into `<dest>.part` and renames only after the sha256 matches, so `dest`
either holds the verified file or does not exist; a dropped connection resumes from the
`.part` with an HTTP Range request. A cached `dest` whose hash differs from the pin is kept
(the pin may be the wrong one) and named in the error. Every connect and read waits at most
`timeout` seconds (runtime.download_timeout_s); a server that sends nothing in that time is
not retried, so it costs one timeout, while a transfer that made progress retries and resumes. `extract` writes into a temp folder beside the target
and renames it into place, so a truncated archive never leaves a half-extracted dataset.
Only the standard library is used (urllib, zipfile, tarfile): the core package has no
HTTP client dependency.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import re
import shutil
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable, Optional, Union

from tqdm import tqdm

from ganaudio.errors import GanaudioError
from ganaudio.utils.io import make_temp_dir, replace_dir

log = logging.getLogger(__name__)

CHUNK = 1 << 20
RETRY_BACKOFF_S = 1.0  # first retry waits this long, then doubles; tests set it to 0
TIMEOUT_S = 30.0  # per connect and per read: long enough for a slow mirror, short for a dead one

# What `extract(members=...)` may return for a member name: the relative path to write it to,
# True to keep its own name, or False/None to skip it.
MemberMap = Callable[[str], Union[str, bool, None]]


class DownloadError(GanaudioError, RuntimeError):
    """A download or extraction problem, phrased as one line naming the file and the fix."""


class _Retryable(Exception):
    """A transient failure (dropped connection, timeout, 5xx): retry, resuming the .part."""


class _NoAnswer(Exception):
    """Connected (or tried to) and got no byte within the timeout: retrying would only wait again."""


# ---------------------------------------------------------------- hashing

def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, sha256: Optional[str]) -> Path:
    """Check a file someone else put on disk (a `local_path`); never deletes it."""
    path = Path(path)
    if not path.is_file():
        raise DownloadError(f"{path}: file not found; fix the local path in params.yaml or set it to null")
    actual = file_sha256(path)
    if sha256 is None:
        log.warning("%s: sha256 %s (not pinned; set it in params.yaml to pin it)", path, actual)
    elif actual != sha256.lower():
        raise DownloadError(
            f"{path}: sha256 mismatch: expected {sha256}, got {actual}; if you trust this file "
            f"set the sha256 override in params.yaml to {actual}, otherwise replace the file")
    return path


# ---------------------------------------------------------------- download

def is_local(source: str) -> bool:
    scheme = urllib.parse.urlsplit(str(source)).scheme
    return scheme in ("", "file") or len(scheme) == 1  # len 1: a Windows drive letter


def local_path(source: str) -> Path:
    parts = urllib.parse.urlsplit(str(source))
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path))
    return Path(source)


def url_basename(url: str) -> str:
    name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    return name or "download"


def obtain(source: str, cache_dir: str | os.PathLike, sha256: Optional[str], *,
           progress: bool = True, timeout: float = TIMEOUT_S, retries: int = 3) -> Path:
    """A verified archive path: a local file is checked where it lies (no copy, no network);
    a URL is downloaded into `cache_dir` under its own file name."""
    if is_local(source):
        return verify_file(local_path(source), sha256)
    dest = Path(cache_dir) / url_basename(source)
    return download(source, dest, sha256, timeout=timeout, retries=retries, progress=progress)


def download(url: str, dest: str | os.PathLike, sha256: Optional[str], *, timeout: float = TIMEOUT_S,
             retries: int = 3, progress: bool = True) -> Path:
    """Fetch `url` to `dest`, resuming a previous `.part` and verifying sha256 before the rename.

    `url` may also be a `file://` URL or a plain path (copied). With `sha256=None` the computed
    hash is logged at warning level so it can be pinned. An existing `dest` with another hash
    than the pin is never deleted: either the pin or the file is wrong, and only the user knows.
    """
    dest = Path(dest)
    if dest.exists():
        if sha256 is None:
            log.info("%s exists and no sha256 is pinned; using it as is", dest)
            return dest
        actual = file_sha256(dest)
        if actual == sha256.lower():
            return dest
        raise DownloadError(
            f"{dest}: this cached file has sha256 {actual} but the pin is {sha256}; either the pin is "
            f"wrong (set the sha256 override in params.yaml to {actual}) or the file is (delete it "
            f"and run again to download it); the file was kept")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")

    if is_local(url):
        src = local_path(url)
        if not src.is_file():
            raise DownloadError(f"{src}: file not found; fix the url/path in params.yaml")
        shutil.copyfile(src, part)
    else:
        _download_http(url, part, timeout=timeout, retries=retries, progress=progress, desc=dest.name)

    actual = file_sha256(part)
    if sha256 is None:
        log.warning("%s: sha256 %s (not pinned; set it in params.yaml to pin it)", dest.name, actual)
    elif actual != sha256.lower():
        part.unlink()
        raise DownloadError(
            f"{dest.name}: sha256 mismatch for {url}: expected {sha256}, got {actual}; if you trust "
            f"this mirror set the sha256 override in params.yaml to {actual}, otherwise run again "
            f"to re-download (the bad file was deleted)")
    os.replace(part, dest)
    return dest


def _download_http(url: str, part: Path, *, timeout: float, retries: int, progress: bool,
                   desc: str) -> None:
    for attempt in range(retries + 1):
        try:
            _download_once(url, part, timeout=timeout, progress=progress, desc=desc)
            return
        except _NoAnswer as e:
            _drop_if_empty(part)
            raise DownloadError(
                f"{url}: no answer within {timeout:g} s ({e}); check the network and the url, or raise "
                f"runtime.download_timeout_s for a slow server{_resume_hint(part)}") from None
        except _Retryable as e:
            if attempt == retries:
                _drop_if_empty(part)
                raise DownloadError(
                    f"{url}: download failed after {retries + 1} attempts ({e}); check the network "
                    f"and run again{_resume_hint(part)}") from None
            delay = RETRY_BACKOFF_S * 2 ** attempt
            log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", desc, e, delay,
                        attempt + 2, retries + 1)
            time.sleep(delay)


def _drop_if_empty(part: Path) -> None:
    if part.exists() and part.stat().st_size == 0:
        part.unlink()


def _resume_hint(part: Path) -> str:
    """Said only when there is something to resume from."""
    if part.exists() and part.stat().st_size > 0:
        return f": it resumes from {part} ({part.stat().st_size:,} bytes)"
    return ""


def _is_timeout(e: BaseException) -> bool:
    return isinstance(e, TimeoutError) or isinstance(getattr(e, "reason", None), TimeoutError)


def _download_once(url: str, part: Path, *, timeout: float, progress: bool, desc: str) -> None:
    offset = part.stat().st_size if part.exists() else 0
    # identity: byte ranges must address the stored file, not a gzip-on-the-fly encoding of it
    headers = {"Accept-Encoding": "identity", "User-Agent": "ganaudio"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:
            total = _content_range(e.headers.get("Content-Range", ""))[1]
            if total == offset:
                return  # the .part is already complete; the hash check decides
            part.unlink()
            raise _Retryable("server rejected the resume range; restarting from zero") from None
        if e.code >= 500 or e.code in (408, 429):
            raise _Retryable(f"HTTP {e.code} {e.reason}") from None
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}; check the url in params.yaml") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        if _is_timeout(e):  # socket.timeout is TimeoutError since Python 3.10
            raise _NoAnswer("connect or response timed out") from None
        raise _Retryable(str(getattr(e, "reason", e))) from None

    with resp:
        if resp.status == 206:
            start, total = _content_range(resp.headers.get("Content-Range", ""))
            if start != offset:
                part.unlink(missing_ok=True)
                raise _Retryable(f"server resumed at byte {start}, not {offset}; restarting")
            mode = "ab"
        else:
            if offset:
                log.warning("%s: server ignored the Range request; restarting from zero", desc)
            offset, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        received = 0
        with open(part, mode) as f, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                         unit_divisor=1024, desc=desc, disable=not progress) as bar:
            while True:
                try:
                    chunk = resp.read1(CHUNK)  # what has arrived: a stall then keeps it for the resume
                except (http.client.HTTPException, OSError) as e:
                    if _is_timeout(e) and received == 0:
                        raise _NoAnswer("headers but no data") from None
                    raise _Retryable(f"connection broken: {e!r}") from None
                if not chunk:
                    break
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    size = part.stat().st_size
    if total is not None and size < total:
        raise _Retryable(f"connection closed at byte {size} of {total}")


def _content_range(value: str) -> tuple[Optional[int], Optional[int]]:
    """'bytes 100-199/200' -> (100, 200); 'bytes */200' -> (None, 200)."""
    m = re.match(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)", value.strip())
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) is not None else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


# ---------------------------------------------------------------- extraction

_CORRUPT = (zipfile.BadZipFile, tarfile.ReadError, tarfile.CompressionError, gzip.BadGzipFile,
            zlib.error, EOFError)


def extract(archive: str | os.PathLike, dest_dir: str | os.PathLike,
            members: Optional[MemberMap] = None, *, progress: bool = True) -> Path:
    """Extract a .zip or .tar(.gz) so that `dest_dir` holds its (selected) members, all or nothing.

    `members(name)` returns the relative path to write a member to, True to keep its name, or
    None/False to skip it. Members that would land outside `dest_dir` (absolute paths, `..`)
    are refused; links and device files are skipped. An existing `dest_dir` is replaced.
    The tar is read as a stream, one sequential pass: a 2.3 GB archive is never seeked through.
    """
    archive, dest_dir = Path(archive), Path(dest_dir)
    if not archive.is_file():
        raise DownloadError(f"{archive}: archive not found; run the fetch again to download it")
    tmp = make_temp_dir(dest_dir.parent, f".{dest_dir.name}.", ".extracting")
    try:
        with open(archive, "rb") as f:
            magic = f.read(4)
        try:
            if magic.startswith(b"PK") or archive.suffix == ".zip":
                n = _extract_zip(archive, tmp, members, progress)
            else:
                n = _extract_tar(archive, tmp, members, progress)
        except _CORRUPT as e:
            raise DownloadError(f"{archive} is truncated or corrupt ({e}); delete it and run again") from None
        log.info("%s: extracted %d files into %s", archive.name, n, dest_dir)
        replace_dir(tmp, dest_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest_dir



def _target(archive: Path, name: str, members: Optional[MemberMap]) -> Optional[PurePosixPath]:
    out = members(name) if members is not None else True
    if out is None or out is False:
        return None
    rel = name if out is True else out
    path = PurePosixPath(rel.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", rel):
        raise DownloadError(
            f"{archive}: member {name!r} would be written outside the target folder (path "
            f"traversal); refusing to extract; delete {archive} and get it from a trusted source")
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _extract_zip(archive: Path, tmp: Path, members: Optional[MemberMap], progress: bool) -> int:
    n = 0
    with zipfile.ZipFile(archive) as zf:
        for info in tqdm(zf.infolist(), desc=f"extract {archive.name}", unit=" files",
                         disable=not progress):
            rel = _target(archive, info.filename, members)
            if rel is None:
                continue
            out = tmp / rel
            if info.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                log.warning("%s: skipping symlink member %s", archive.name, info.filename)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            n += 1
    return n


def _extract_tar(archive: Path, tmp: Path, members: Optional[MemberMap], progress: bool) -> int:
    n = 0
    with tarfile.open(archive, mode="r|*") as tf, tqdm(desc=f"extract {archive.name}",
                                                      unit=" files", disable=not progress) as bar:
        for m in tf:
            rel = _target(archive, m.name, members)
            if rel is None:
                continue
            out = tmp / rel
            if m.isdir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            if not m.isfile():
                log.warning("%s: skipping non-regular member %s", archive.name, m.name)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            with src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            n += 1
            bar.update(1)
    return n
