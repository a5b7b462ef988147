"""A small ctypes binding to eSpeak NG, as shipped by the `espeakng-loader` wheel.

Why ctypes and not the `espeak-ng` program: the wheel ships only the shared library and its
voice data (no root, no apt), and calling the library in synchronous mode costs about 3 ms a
word, against a process start per word for the command line.

eSpeak NG keeps global state and is not thread-safe: one `ESpeak` per process (`ESpeak.get()`),
and a lock around each synthesis for the odd caller with threads.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Optional

import numpy as np

from ganaudio.errors import GanaudioError

# espeak_AUDIO_OUTPUT, espeak_PARAMETER, flags and errors from speak_lib.h
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # without it a missing data folder calls exit() on us
POS_CHARACTER = 1
CHARS_UTF8 = 1
RATE, VOLUME, PITCH, RANGE = 1, 2, 3, 4
EE_OK = 0

_INSTALL_HINT = "install it with `pip install espeakng-loader`"


class ESpeakError(GanaudioError, RuntimeError):
    """eSpeak NG could not be loaded or refused a request; the message says what to do."""


class _Voice(ctypes.Structure):
    # espeak_VOICE; `languages` is (priority byte, name, NUL)* then a final NUL.
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


# int callback(short *wav, int numsamples, espeak_EVENT *events); return 0 to go on
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)


class ESpeak:
    """eSpeak NG in synchronous mode: text in, int16 samples at `sample_rate` out."""

    _instance: Optional["ESpeak"] = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise ESpeakError(f"the Python package espeakng-loader is missing; {_INSTALL_HINT}") from None
        lib_path = espeakng_loader.get_library_path()
        try:
            data_path = espeakng_loader.get_data_path()
            self.lib = ctypes.CDLL(lib_path)
        except (OSError, RuntimeError) as e:
            raise ESpeakError(f"{lib_path}: cannot load eSpeak NG ({e}); reinstall it with "
                              "`pip install --force-reinstall espeakng-loader`") from None
        self.data_path = Path(data_path)
        self._declare()
        rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(),
                                          INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise ESpeakError(f"{self.data_path}: espeak_Initialize failed ({rate}); reinstall "
                              "with `pip install --force-reinstall espeakng-loader`")
        self.sample_rate = int(rate)  # 22050 for every voice
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # keep a reference: C holds only a pointer
        self.lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    @classmethod
    def get(cls) -> "ESpeak":
        """The process's one instance (eSpeak NG's state is global to the library)."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _declare(self) -> None:
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        # Breathy variants (f2, f3, …) draw breath noise from eSpeak's own RNG (espeak_rand);
        # eSpeak NG before 1.51 used libc's rand(), so seed that there instead.
        seed_fn = getattr(lib, "espeak_ng_SetRandSeed", None)
        if seed_fn is None:
            seed_fn = ctypes.CDLL(None).srand
        seed_fn.argtypes = [ctypes.c_long]
        seed_fn.restype = None
        self._seed_rng = seed_fn

    def _collect(self, wav, numsamples, events) -> int:
        if wav and numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0

    def synthesize(self, text: str, voice: str = "en-us", pitch: int = 50, rate: int = 175,
                   range_: int = 50, variant: Optional[str] = None, seed: int = 0) -> np.ndarray:
        """Speak `text`; returns int16 samples (T,) at `self.sample_rate`.

        pitch and range_ are eSpeak's 0..100 scales (the variant file scales them again),
        rate is words per minute (80..450), seed fixes the breath noise of breathy variants.
        Not a pure function: eSpeak carries pitch-flutter phase and a few counters from one
        call to the next, so the same request can give slightly different samples later in
        the same process (see speech.py for how the data set stays deterministic).
        """
        name = f"{voice}+{variant}" if variant else voice
        with self._lock:
            if self.lib.espeak_SetVoiceByName(name.encode()) != EE_OK:
                raise ESpeakError(f"eSpeak NG has no voice {name!r}; pick one of ESpeak.get().list_voices() "
                                  "and ESpeak.get().list_variants()")
            for param, value in ((RATE, rate), (PITCH, pitch), (RANGE, range_)):
                self.lib.espeak_SetParameter(param, int(value), 0)
            data = text.encode("utf-8") + b"\0"
            buf = ctypes.create_string_buffer(data, len(data))
            self._chunks = []
            self._seed_rng(seed & 0x7FFFFFFF)
            err = self.lib.espeak_Synth(buf, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
            if err == EE_OK:
                err = self.lib.espeak_Synchronize()
            if err != EE_OK:
                raise ESpeakError(f"espeak_Synth failed with code {err} for {text!r} in voice {name!r}")
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)

    def _list(self, spec: Optional[_Voice]) -> list[tuple[str, list[str]]]:
        """(identifier, languages) of the voices eSpeak NG lists for `spec`."""
        out = []
        arr = self.lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
        i = 0
        while arr[i]:
            v = arr[i].contents
            out.append((v.identifier.decode(), _languages(v.languages)))
            i += 1
        return out

    def list_voices(self, language: str = "en") -> list[str]:
        """Identifiers of the voices whose language starts with `language`, e.g. 'gmw/en-US'."""
        with self._lock:
            voices = self._list(None)
        return sorted(ident for ident, langs in voices
                      if any(lang == language or lang.startswith(language + "-") for lang in langs))

    def list_variants(self) -> list[str]:
        """Names of the voice variants (the part after '+', e.g. 'f3', 'klatt2')."""
        folder = self.data_path / "voices" / "!v"
        return sorted(p.name for p in folder.iterdir() if p.is_file())


def _languages(ptr: int) -> list[str]:
    """Decode espeak_VOICE.languages: repeated (priority byte, NUL-terminated name)."""
    out = []
    while ptr:
        if ctypes.c_ubyte.from_address(ptr).value == 0:
            break
        name = ctypes.string_at(ptr + 1)
        out.append(name.decode())
        ptr += 1 + len(name) + 1
    return out
