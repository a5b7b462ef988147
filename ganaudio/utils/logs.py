"""One logging set-up for stages, flows and the CLI."""

from __future__ import annotations

import logging


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    # Libraries we call are chatty at INFO; their warnings still show.
    for noisy in ("numba", "matplotlib", "urllib3", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
