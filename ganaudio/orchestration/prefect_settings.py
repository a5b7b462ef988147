"""Prefect settings the flows run under: a patient temporary server, and no telemetry.

With no PREFECT_API_URL, Prefect starts a temporary ("ephemeral") API server on first use and
gives up after `server.ephemeral.startup_timeout_seconds` (Prefect's default: 20 s). On a loaded
machine that fails with "Timed out while attempting to connect to ephemeral Prefect API server",
so the flows raise it to STARTUP_TIMEOUT_S unless you set it yourself (environment variable
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS or `prefect config set ...`). That server's
telemetry heartbeat fails without internet and logs `Failed to send telemetry` errors; it is off
unless PREFECT_SERVER_ANALYTICS_ENABLED is set.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

STARTUP_TIMEOUT_S = 180


def defaults() -> dict:
    """The settings this project changes, minus any the user configured (environment or profile)."""
    from prefect.settings import (PREFECT_SERVER_ANALYTICS_ENABLED, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
                                  get_current_settings)

    current = get_current_settings()
    updates = {}
    if "startup_timeout_seconds" not in current.server.ephemeral.model_fields_set:
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = STARTUP_TIMEOUT_S
    if "analytics_enabled" not in current.server.model_fields_set:
        updates[PREFECT_SERVER_ANALYTICS_ENABLED] = False
    return updates


@contextlib.contextmanager
def flow_settings() -> Iterator[None]:
    """Run flows inside this: the temporary server (started on the first flow call) inherits the settings."""
    from prefect.settings import temporary_settings

    with temporary_settings(updates=defaults()):
        yield
