"""Expected errors: problems with the user's input, params or environment, not bugs.

Every class here carries a one-line message that names the file or key and the fix. Entry
points (stages/common.py, ganaudio/cli.py) print such errors as that one line with exit code 2,
and keep the traceback for everything else, which is a bug. `GANAUDIO_DEBUG=1` shows the
traceback of expected errors too.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Callable

EXIT_EXPECTED = 2  # argparse's code for bad usage: the user can fix it


class GanaudioError(Exception):
    """Base of the expected errors: the message is one line, naming the file or key and the fix."""


class MissingInputError(GanaudioError, FileNotFoundError):
    """An input file or folder is missing; the message says which stage or command makes it."""


class BadInputError(GanaudioError, ValueError):
    """An input file exists but cannot be used (unreadable, wrong kind, wrong shape)."""


def debug_enabled() -> bool:
    return os.environ.get("GANAUDIO_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def one_line(exc: BaseException) -> str:
    """The message of an expected error, folded onto one line whatever a library put in it."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def run_main(main: Callable[[], object], prog: str, debug: bool | None = None) -> int:
    """Call `main()`; an expected error becomes `prog: message` on stderr and exit code 2.

    Unexpected errors propagate with their traceback; with `debug` (default: GANAUDIO_DEBUG)
    expected ones do too. Returns main's integer result, or 0.
    """
    debug = debug_enabled() if debug is None else debug
    try:
        code = main()
    except GanaudioError as e:
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {one_line(e)}", file=sys.stderr)
        return EXIT_EXPECTED
    return code if isinstance(code, int) else 0
