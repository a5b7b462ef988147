"""A misbehaving-on-request HTTP file server on 127.0.0.1, and tiny archives in official layouts.

`ArchiveServer` serves in-memory files with Range support and records every request, and can
be told to drop the connection after K bytes, to ignore Range, or to serve corrupted bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import tarfile
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import numpy as np
import pretty_midi
import soundfile as sf


@dataclass
class Served:
    path: str
    range: Optional[str]
    status: int
    sent: int  # body bytes written


@dataclass
class ArchiveServer:
    files: dict[str, bytes] = field(default_factory=dict)
    log: list[Served] = field(default_factory=list)
    drops: dict[str, list[int]] = field(default_factory=dict)  # path -> [K, times left]
    ignore_range: bool = False
    corrupt: set[str] = field(default_factory=set)

    def add(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return self.url(name)

    def url(self, name: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/{urllib.parse.quote(name)}"

    def drop_after(self, name: str, k: int, times: int = 1) -> None:
        """Send the full Content-Length header but close after `k` body bytes, `times` times."""
        self.drops[name] = [k, times]

    def requests_for(self, name: str) -> list[Served]:
        return [r for r in self.log if r.path == name]

    def start(self) -> "ArchiveServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _take_drop(self, name: str) -> Optional[int]:
        d = self.drops.get(name)
        if not d or d[1] <= 0:
            return None
        d[1] -= 1
        return d[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: a drop closes only that one

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        owner: ArchiveServer = self.server.owner  # type: ignore[attr-defined]
        name = urllib.parse.unquote(self.path.lstrip("/"))
        rng = self.headers.get("Range")
        data = owner.files.get(name)
        if data is None:
            owner.log.append(Served(name, rng, 404, 0))
            self.send_error(404)
            return
        if name in owner.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        start, status = 0, 200
        if rng and not owner.ignore_range:
            m = re.fullmatch(r"bytes=(\d+)-", rng.strip())
            start, status = int(m.group(1)), 206
            if start >= len(data):
                owner.log.append(Served(name, rng, 416, 0))
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        drop = owner._take_drop(name)
        if drop is not None:
            body = body[:drop]
            self.close_connection = True
        # logged before the body goes out: the client may finish before this thread runs again
        owner.log.append(Served(name, rng, status, len(body)))
        self.wfile.write(body)
        self.wfile.flush()


class SilentServer:
    """A TCP socket on 127.0.0.1 that accepts connections and never sends a byte (a hung server).

    `accepted` counts connections, so a test can tell one timeout from four retries.
    """

    def __init__(self):
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.05)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def accepted(self) -> int:
        return len(self._held)

    def url(self, name: str) -> str:
        host, port = self._sock.getsockname()
        return f"http://{host}:{port}/{name}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            self._held.append(conn)  # held open, never answered

    def __enter__(self) -> "SilentServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._sock.close()


# ---------------------------------------------------------------- tiny archives

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wav_bytes(seed: int, seconds: float = 0.05, sr: int = 16000) -> bytes:
    x = np.random.default_rng(seed).uniform(-0.3, 0.3, int(sr * seconds))
    buf = io.BytesIO()
    sf.write(buf, x, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def midi_bytes(seed: int, notes: int = 4) -> bytes:
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    t = 0.0
    for _ in range(notes):
        dur = float(rng.uniform(0.1, 0.4))
        piano.notes.append(pretty_midi.Note(int(rng.integers(30, 90)), int(rng.integers(40, 110)), t, t + dur))
        t += dur
    pm.instruments.append(piano)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


MAESTRO_PIECES = [  # (composer, title, split, year, stem)
    ("Frédéric Chopin", "Ballade No. 1", "train", 2004, "MIDI-Unprocessed_01_R1_2004_01_ORIG_MID--AUDIO_01_R1_2004_01_Track01_wav"),
    ("Franz Liszt", "Mephisto Waltz", "train", 2006, "MIDI-Unprocessed_02_R1_2006_01-04_ORIG_MID--AUDIO_02_R1_2006_01_Track01_wav"),
    ("Johann Sebastian Bach", "Prelude in C", "validation", 2011, "MIDI-Unprocessed_03_R1_2011_MID--AUDIO_R1-D1_03_Track03_wav"),
    ("Claude Debussy", "Clair de Lune", "test", 2018, "MIDI-Unprocessed_Recital1-3_MID--AUDIO_01_R1_2018_wav--1"),
]


def maestro_zip(extra_rows: int = 0, drop_columns: tuple[str, ...] = ()) -> bytes:
    """maestro-v3.0.0-midi.zip in miniature; `extra_rows` lists MIDI files the zip lacks."""
    root = "maestro-v3.0.0"
    members: dict[str, bytes] = {}
    rows = []
    for i, (composer, title, split, year, stem) in enumerate(MAESTRO_PIECES):
        midi = f"{year}/{stem}.midi"
        members[f"{root}/{midi}"] = midi_bytes(i)
        rows.append({"canonical_composer": composer, "canonical_title": title, "split": split,
                     "year": year, "midi_filename": midi, "audio_filename": midi.replace(".midi", ".wav"),
                     "duration": 1.5})
    for j in range(extra_rows):
        rows.append({**rows[0], "midi_filename": f"2004/missing_{j}.midi"})
    cols = [c for c in rows[0] if c not in drop_columns]
    csv = ",".join(cols) + "\n" + "".join(
        ",".join(f'"{r[c]}"' if isinstance(r[c], str) else str(r[c]) for c in cols) + "\n" for r in rows)
    members[f"{root}/{root}.csv"] = csv.encode()
    members[f"{root}/{root}.json"] = json.dumps({c: {str(i): r[c] for i, r in enumerate(rows)} for c in cols}).encode()
    members["__MACOSX/._junk"] = b"not part of the dataset"
    return zip_bytes(members)


# Speech Commands in miniature: three digit words, a non-digit word, background noise, lists
# that also mention non-digit clips; names as the real archive has them ("./" prefix).
SPEECH_COMMANDS_CLIPS = [
    "zero/0a2b400e_nohash_0.wav", "zero/1b3c511f_nohash_0.wav", "zero/2c4d6220_nohash_0.wav",
    "zero/3d5e7331_nohash_1.wav", "one/0a2b400e_nohash_0.wav", "one/4e6f8442_nohash_0.wav",
    "one/5f709553_nohash_2.wav", "nine/6a81a664_nohash_0.wav", "nine/7b92b775_nohash_0.wav",
    "bed/0a2b400e_nohash_0.wav", "bed/8ca3c886_nohash_0.wav",
]
VALIDATION_LIST = ["zero/1b3c511f_nohash_0.wav", "one/4e6f8442_nohash_0.wav", "bed/8ca3c886_nohash_0.wav"]
TESTING_LIST = ["zero/2c4d6220_nohash_0.wav", "nine/7b92b775_nohash_0.wav", "bed/0a2b400e_nohash_0.wav"]


def speech_commands_tar() -> bytes:
    members: dict[str, bytes] = {}
    for i, rel in enumerate(SPEECH_COMMANDS_CLIPS):
        members[f"./{rel}"] = wav_bytes(i)
    members["./_background_noise_/white_noise.wav"] = wav_bytes(99, seconds=0.2)
    members["./_background_noise_/README.md"] = b"noise"
    members["./LICENSE"] = b"CC BY 4.0"
    # the lists last: the split must not depend on member order
    members["./validation_list.txt"] = ("\n".join(VALIDATION_LIST) + "\n").encode()
    members["./testing_list.txt"] = ("\n".join(TESTING_LIST) + "\n").encode()
    return tar_gz_bytes(members)


SC09_PREMADE = {
    "train": ["Zero_0a2b400e_nohash_0.wav", "Three_1b3c511f_nohash_0.wav", "Nine_2c4d6220_nohash_1.wav"],
    "valid": ["One_3d5e7331_nohash_0.wav"],
    "test": ["Eight_4e6f8442_nohash_0.wav", "Two_5f709553_nohash_0.wav"],
}


def sc09_tar() -> bytes:
    members = {}
    for split, names in SC09_PREMADE.items():
        for i, name in enumerate(names):
            members[f"sc09/{split}/{name}"] = wav_bytes(100 + i)
    members["sc09/README.txt"] = b"SC09"
    return tar_gz_bytes(members)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
