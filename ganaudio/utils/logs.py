"""One logging set-up for stages, flows and the CLI."""

from __future__ import annotations

import logging
import os

# Set to 0 by a flow for the stages it runs: Prefect stamps every line it forwards, so a
# stage's own timestamp would print twice.
TIMESTAMPS_ENV = "GANAUDIO_LOG_TIMESTAMPS"


def setup_logging(level: int = logging.INFO) -> None:
    stamp = os.environ.get(TIMESTAMPS_ENV, "1") != "0"
    fmt = ("%(asctime)s " if stamp else "") + "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, force=True)
    # Libraries we call are chatty at INFO; their warnings still show.
    for noisy in ("numba", "matplotlib", "urllib3", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
