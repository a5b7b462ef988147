"""Typed configuration, one module per params.yaml section (see core.py for loading).

`from ganaudio.config import X` imports only the module that defines X, so a stage loads, and
dvc.yaml lists, the config of the sections it reads and no other.
"""

import importlib

_HOME = {
    **dict.fromkeys(["ConfigError", "Invalid", "Range", "Count", "Seed", "Share", "Positive", "NonNegative",
                     "Beta", "SHA256_RE", "DEVICE_RE", "SECTIONS", "PRESET_SECTIONS", "Params", "RetrainConfig",
                     "RuntimeConfig", "load_params", "check_params", "params_from_dict", "presets", "section_class",
                     "deep_merge", "build", "to_dict", "flatten"], "core"),
    **dict.fromkeys(["DataConfig", "EmbeddedMaestroConfig", "FetchMaestroConfig", "EmbeddedSC09Config",
                     "FetchSC09Config", "MAESTRO_URL", "SPEECH_COMMANDS_URL"], "fetch"),
    "NotesConfig": "notes",
    "MelsConfig": "mels",
    "TrainConfig": "train",
    **dict.fromkeys(["PianoGANModelConfig", "PianoRenderConfig", "PianoEvalConfig", "PianoPeerConfig",
                     "PianoGANConfig"], "pianogan"),
    **dict.fromkeys(["SpectoGANModelConfig", "InversionConfig", "SpectoRenderConfig", "SpectoEvalConfig",
                     "SpectoGANConfig"], "spectogan"),
    **dict.fromkeys(["WaveGANModelConfig", "WaveGANConfig"], "wavegan"),
    "ClassifierConfig": "classifier",
}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'ganaudio.config' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ganaudio.config.{_HOME[name]}"), name)


def __dir__() -> list[str]:
    return sorted(_HOME)
