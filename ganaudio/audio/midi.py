"""Note arrays -> pretty_midi -> MIDI files and WAV.

Notes are the raw features of ganaudio.data.windows (pitch, step, duration, velocity), so a
generated window becomes listenable with `render_wav(notes_to_midi(x), path)`, through a
SoundFont piano. `choose_synth` picks, in order:
- FluidSynth (pyfluidsynth), where the system has libfluidsynth;
- midirenderer, an offline SoundFont renderer in a self-contained PyPI wheel (Rust, no system
  packages: what `make run` gets). symusic's synthesizer, the other PyPI option, renders
  TimGM6mb.sf2 out of tune (C4 sounds near G#5 in 0.4.8-0.5.9; 0.6.0's render() fails), so it
  is not used;
- pretty_midi's sine synth, only when neither can run or no soundfont is found, with one warning.
The soundfont is $GANAUDIO_SOUNDFONT, else a system General MIDI font, else TimGM6mb.sf2, the
6 MB General MIDI font shipped inside the pretty_midi wheel, so a piano is always at hand.
"""

from __future__ import annotations

import functools
import glob
import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pretty_midi

from ganaudio.audio.wav import write_wav
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
BUNDLED_SOUNDFONT = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"  # in the pretty_midi wheel
TICKS_PER_SECOND = 960  # resolution 480 at 120 bpm: ~1 ms
MIN_TICKS = 1
FADE_S = 0.05  # midirenderer stops at the last note-off: fade the cut so it does not click


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
    """A General MIDI soundfont: $GANAUDIO_SOUNDFONT, a system install, else pretty_midi's bundled one."""
    env = os.environ.get(SOUNDFONT_ENV)
    if env and Path(env).is_file():
        return env
    for place in SOUNDFONT_PLACES:
        for hit in sorted(glob.glob(os.path.expanduser(place))):
            if Path(hit).is_file():
                return hit
    return str(BUNDLED_SOUNDFONT) if BUNDLED_SOUNDFONT.is_file() else None


def _has_fluidsynth() -> bool:
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth)
        return True
    except Exception:  # ImportError, or OSError when libfluidsynth is missing
        return False


def _has_midirenderer() -> bool:
    try:
        import midirenderer  # noqa: F401
        return True
    except Exception:
        return False


@dataclass(frozen=True)
class Synth:
    """How WAVs are made: `renderer` ("fluidsynth" | "midirenderer" | "sine") and its `soundfont` (None for sine)."""

    renderer: str
    soundfont: Optional[str]

    def describe(self) -> dict:
        return {"renderer": self.renderer, "soundfont": self.soundfont and Path(self.soundfont).name}


SINE = Synth("sine", None)


def choose_synth(soundfont: Optional[str] = None) -> Synth:
    """The best renderer this machine can run with `soundfont` (None: `find_soundfont`)."""
    if soundfont is not None and not Path(soundfont).is_file():
        raise MissingInputError(f"{soundfont}: soundfont not found; fix pianogan.render.soundfont or set it "
                                "to null to search the usual places")
    sf2 = soundfont or find_soundfont()
    if sf2 is None:
        warn_once(f"no General MIDI soundfont found; rendering WAVs with pretty_midi's sine synth "
                  f"(set ${SOUNDFONT_ENV} to a .sf2 for piano)")
        return SINE
    if _has_fluidsynth():
        return Synth("fluidsynth", sf2)
    if _has_midirenderer():
        return Synth("midirenderer", sf2)
    warn_once("neither pyfluidsynth nor midirenderer can run here; rendering WAVs with pretty_midi's sine "
              "synth (pip install midirenderer==0.1.3 for piano)")
    return SINE


@functools.lru_cache(maxsize=2)
def _soundfont_bytes(sf2: str) -> bytes:
    return Path(sf2).read_bytes()


def _midirenderer_render(pm: pretty_midi.PrettyMIDI, sf2: str, sample_rate: int) -> np.ndarray:
    """midirenderer writes 48 kHz stereo WAV bytes: mix to mono, resample, fade the cut-off end."""
    import midirenderer
    import soundfile as sf
    from scipy.signal import resample_poly

    buf = io.BytesIO()
    pm.write(buf)
    audio, sr = sf.read(io.BytesIO(midirenderer.render_wave_from(_soundfont_bytes(sf2), buf.getvalue())),
                        dtype="float64", always_2d=True)
    audio = audio.mean(1)  # (S,)
    if sr != sample_rate:
        g = math.gcd(sr, sample_rate)
        audio = resample_poly(audio, sample_rate // g, sr // g)
    n = min(int(FADE_S * sample_rate), len(audio))
    if n:
        audio[-n:] *= np.linspace(1.0, 0.0, n)
    return audio


def synthesize(pm: pretty_midi.PrettyMIDI, synth: Synth, sample_rate: int) -> np.ndarray:
    """(S,) float audio of `pm` through `synth`, unnormalised."""
    if synth.renderer == "fluidsynth":
        return np.asarray(pm.fluidsynth(fs=sample_rate, sf2_path=synth.soundfont), np.float64).reshape(-1)
    if synth.renderer == "midirenderer":
        return _midirenderer_render(pm, synth.soundfont, sample_rate)
    if synth.renderer == "sine":
        return np.asarray(pm.synthesize(fs=sample_rate), np.float64).reshape(-1)
    raise ValueError(f"unknown renderer {synth.renderer!r}; use fluidsynth, midirenderer or sine")


def render_wav(pm: pretty_midi.PrettyMIDI, path: str | os.PathLike, sample_rate: int = 22050,
               soundfont: Optional[str] = None, synth: Optional[Synth] = None) -> str:
    """Synthesize `pm` to a loudness-normalised 16-bit mono WAV; returns the renderer used.

    `synth` (from `choose_synth`, once per stage) or else `soundfont` picks the renderer. A
    SoundFont renderer that fails still gives the user audio, from the sine synth, with a warning.
    """
    synth = synth or choose_synth(soundfont)
    try:
        audio = synthesize(pm, synth, sample_rate)
    except Exception as e:  # a broken soundfont or library
        if synth.renderer == "sine":
            raise
        warn_once(f"{synth.renderer} failed with {synth.soundfont} ({type(e).__name__}: {e}); "
                  "using pretty_midi's sine synth")
        synth, audio = SINE, synthesize(pm, SINE, sample_rate)
    if len(audio) == 0:
        audio = np.zeros(sample_rate // 10)  # no notes: a short silence rather than an empty file
    write_wav(path, audio, sample_rate)
    return synth.renderer
