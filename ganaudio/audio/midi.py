"""Note arrays -> pretty_midi -> MIDI files and WAV.

Notes are the raw features of ganaudio.data.windows (pitch, step, duration, velocity), so a
generated window becomes listenable with `render_wav(notes_to_midi(x), path)`. FluidSynth with a
General MIDI piano sounds like a piano; without it pretty_midi's sine synth still lets one hear
pitches and rhythm, and the caller is told which was used.
"""

from __future__ import annotations

import glob
import os
import warnings
from pathlib import Path
from typing import Optional

import numpy as np
import pretty_midi
import soundfile as sf

from ganaudio.utils.io import atomic_path
from ganaudio.errors import MissingInputError

SOUNDFONT_ENV = "GANAUDIO_SOUNDFONT"
SOUNDFONT_PLACES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/local/share/soundfonts/default.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "~/.local/share/soundfonts/*.sf2",
    "/usr/share/soundfonts/*.sf2",
    "/usr/share/sounds/sf2/*.sf2",
)
TICKS_PER_SECOND = 960  # resolution 480 at 120 bpm: ~1 ms
MIN_TICKS = 1
PEAK = 0.89  # about -1 dBFS: headroom after normalising


def notes_to_midi(notes: np.ndarray, program: int = 0) -> pretty_midi.PrettyMIDI:
    """(L, 4) raw features -> one-instrument PrettyMIDI; onsets are cumsum(step), so the first
    note starts at its own step.

    MIDI cannot hold two overlapping notes of one pitch (the note-offs get paired wrongly), so a
    note is cut where the same key is struck again, as on a piano; a key struck twice at the
    same instant sounds once.
    """
    notes = np.asarray(notes, np.float64)
    if notes.ndim != 2 or notes.shape[1] != 4:
        raise ValueError(f"notes must be (L, 4) = (pitch, step, duration, velocity), got {notes.shape}")
    start = np.cumsum(np.maximum(notes[:, 1], 0.0))
    end = start + np.maximum(notes[:, 2], 0.01)
    pitch = np.clip(np.round(notes[:, 0]), 0, 127).astype(int)
    velocity = np.clip(np.round(notes[:, 3]), 1, 127).astype(int)
    end = np.minimum(end, next_onset_same_pitch(pitch, start))
    keep = end - start >= MIN_TICKS / TICKS_PER_SECOND
    pitch, velocity, start, end = pitch[keep], velocity[keep], start[keep], end[keep]
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)  # TICKS_PER_SECOND
    inst = pretty_midi.Instrument(program=program, name=pretty_midi.program_to_instrument_name(program))
    inst.notes = [pretty_midi.Note(int(v), int(p), float(s), float(e))
                  for p, v, s, e in zip(pitch, velocity, start, end)]
    pm.instruments.append(inst)
    return pm


def next_onset_same_pitch(pitch: np.ndarray, start: np.ndarray) -> np.ndarray:
    """(L,) onset of the next note with the same pitch, inf where there is none."""
    order = np.lexsort((start, pitch))
    out = np.full(len(start), np.inf)
    same = pitch[order][1:] == pitch[order][:-1]
    out[order[:-1][same]] = start[order][1:][same]
    return out


def write_midi(pm: pretty_midi.PrettyMIDI, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        pm.write(str(tmp))


_warned: set[str] = set()


def warn_once(message: str) -> None:
    """Warn about a message once per process (a render stage writes dozens of WAVs)."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)


def find_soundfont() -> Optional[str]:
    """A General MIDI soundfont from $GANAUDIO_SOUNDFONT or the usual install places, else None."""
    env = os.environ.get(SOUNDFONT_ENV)
    if env and Path(env).is_file():
        return env
    for place in SOUNDFONT_PLACES:
        for hit in sorted(glob.glob(os.path.expanduser(place))):
            if Path(hit).is_file():
                return hit
    return None


def _has_fluidsynth() -> bool:
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth)
        return True
    except Exception:  # ImportError, or OSError when libfluidsynth is missing
        return False


def render_wav(pm: pretty_midi.PrettyMIDI, path: str | os.PathLike, sample_rate: int = 22050,
               soundfont: Optional[str] = None) -> str:
    """Synthesize `pm` to a 16-bit mono WAV; returns the renderer used, "fluidsynth" or "sine"."""
    if soundfont is not None and not Path(soundfont).is_file():
        raise MissingInputError(f"{soundfont}: soundfont not found; fix the path or set it to null "
                                "to search the usual places")
    sf2 = soundfont or find_soundfont()
    audio, renderer = None, "sine"
    if sf2 and _has_fluidsynth():
        try:
            audio, renderer = pm.fluidsynth(fs=sample_rate, sf2_path=sf2), "fluidsynth"
        except Exception as e:  # a broken soundfont or library: still give the user audio
            warnings.warn(f"FluidSynth failed with {sf2} ({e}); using pretty_midi's sine synth")
    else:
        why = "pyfluidsynth is not installed" if sf2 else "no General MIDI soundfont found"
        warn_once(f"{why}; rendering WAVs with pretty_midi's sine synth "
                  f"(set ${SOUNDFONT_ENV} or install fluid-soundfont-gm + pyfluidsynth for piano)")
    if audio is None:
        audio = pm.synthesize(fs=sample_rate)
    audio = np.asarray(audio, np.float64).reshape(-1)
    if len(audio) == 0:
        audio = np.zeros(sample_rate // 10)  # no notes: a short silence rather than an empty file
    peak = np.abs(audio).max()
    if peak > 0:
        audio = audio * (PEAK / peak)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), audio.astype(np.float32), sample_rate, subtype="PCM_16", format="WAV")
    return renderer
