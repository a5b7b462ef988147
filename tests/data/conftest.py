"""Fixtures for the data tests: a local archive server (127.0.0.1 only) and instant retries."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib, so sibling helper modules are not importable by default.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from http_fixtures import ArchiveServer  # noqa: E402


@pytest.fixture
def server():
    srv = ArchiveServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries without the real waits between them."""
    from ganaudio.data import download
    monkeypatch.setattr(download, "RETRY_BACKOFF_S", 0.0)
