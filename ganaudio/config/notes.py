"""The `notes` section: MIDI to note tables and windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from ganaudio.config.core import Count, Range, Share


@dataclass
class NotesConfig:
    sustain: Literal["extend", "ignore"] = "extend"  # extend note ends while the pedal is down
    seq_len: Annotated[int, Range(lo=2)] = 256
    stride: Count = 64
    max_failed_share: Share = 0.05  # unreadable, empty or drums-only files skipped before the stage fails
