"""MIDI -> note table (one row per note), and the notes stage's whole job: table + windows + stats.

Files that give no notes (unreadable, empty, drums only) are skipped and counted under one
policy with the mels stage (ganaudio/data/failures.py): see `extract_notes`.

Sustain pedal: MAESTRO is a performance dataset, so many notes are "held" by the pedal after
the key is released. With `sustain="extend"` a note released while CC64 >= 64 sounds until the
pedal comes up, or until the same key is struck again (the Onsets-and-Frames convention).
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi
import pyarrow as pa
import pyarrow.dataset as pads
from tqdm.auto import tqdm

from ganaudio.audio.midi import next_onset_same_pitch
from ganaudio.config import NotesConfig
from ganaudio.data.failures import ExtractionError, Skipped
from ganaudio.data.windows import NoteStats, make_windows
from ganaudio.errors import BadInputError
from ganaudio.utils.io import atomic_dir, atomic_path

NOTE_COLUMNS = ["pitch", "velocity", "start", "end", "step", "duration"]
TABLE_COLUMNS = ["piece_id", "split", "composer", *NOTE_COLUMNS]
SPLITS = ("train", "valid", "test")
SPLIT_NAMES = {"train": "train", "validation": "valid", "valid": "valid", "test": "test"}
CSV_NAME = "maestro-v3.0.0.csv"
PEDAL_CC = 64


__all__ = ["CorruptMidiError", "ExtractionError", "extract_notes", "midi_to_notes"]


class CorruptMidiError(BadInputError):
    """A MIDI file that cannot be parsed; the message names the file."""


def midi_to_notes(path: Path, sustain: str = "extend") -> pd.DataFrame:
    """All non-drum notes of one MIDI file, sorted by (start, pitch).

    Columns: pitch, velocity (int), start, end, step (onset minus previous onset, 0 first),
    duration (end - start), seconds.
    """
    return notes_frame(*_read_notes(Path(path), sustain))


def _read_notes(path: Path, sustain: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pitch, velocity, start, end) arrays, sorted by (start, pitch)."""
    return _notes_of(_load_midi(path), sustain)


def _load_midi(path: Path) -> pretty_midi.PrettyMIDI:
    try:
        return pretty_midi.PrettyMIDI(str(path))
    except Exception as e:  # mido/pretty_midi raise many types on bad bytes
        msg = str(e).splitlines()[0] if str(e) else ""
        raise CorruptMidiError(f"{path}: unreadable MIDI ({type(e).__name__}: {msg}); "
                               "re-download it or remove it from the CSV") from None


def _notes_of(pm: pretty_midi.PrettyMIDI, sustain: str) -> tuple[np.ndarray, ...]:
    if sustain not in ("extend", "ignore"):
        raise ValueError(f"sustain must be 'extend' or 'ignore', got {sustain!r}")
    parts = []
    for inst in pm.instruments:
        if inst.is_drum or not inst.notes:
            continue
        notes = np.array([(n.pitch, n.velocity, n.start, n.end) for n in inst.notes], np.float64)  # (n, 4)
        if sustain == "extend":
            notes[:, 3] = sustained_ends(notes[:, 0], notes[:, 2], notes[:, 3],
                                         pedal_intervals(inst.control_changes, pm.get_end_time()))
        parts.append(notes)
    notes = np.concatenate(parts) if parts else np.zeros((0, 4))
    order = np.lexsort((notes[:, 0], notes[:, 2]))
    notes = notes[order]
    return notes[:, 0].astype(np.int64), notes[:, 1].astype(np.int64), notes[:, 2], notes[:, 3]


def notes_frame(pitch, velocity, start, end) -> pd.DataFrame:
    step = np.diff(start, prepend=start[:1]) if len(start) else start
    return pd.DataFrame({"pitch": pitch, "velocity": velocity, "start": start, "end": end,
                         "step": step, "duration": end - start})


def pedal_intervals(control_changes, end_time: float) -> np.ndarray:
    """(K, 2) [down, up) times of the sustain pedal; a pedal never released ends with the file."""
    intervals, down = [], None
    for cc in sorted((c for c in control_changes if c.number == PEDAL_CC), key=lambda c: c.time):
        if cc.value >= 64 and down is None:
            down = cc.time
        elif cc.value < 64 and down is not None:
            intervals.append((down, cc.time))
            down = None
    if down is not None:
        intervals.append((down, max(end_time, down)))
    return np.array(intervals, np.float64).reshape(-1, 2)


def sustained_ends(pitch: np.ndarray, start: np.ndarray, end: np.ndarray, pedal: np.ndarray) -> np.ndarray:
    """Note ends with the pedal applied: a release inside [down, up) moves to `up`, but never past
    the next onset of the same pitch (a re-struck key cuts the old note); never shorter than raw."""
    if len(pedal) == 0 or len(end) == 0:
        return end
    k = np.searchsorted(pedal[:, 0], end, side="right") - 1  # last pedal press at or before release
    held = (k >= 0) & (end < pedal[np.maximum(k, 0), 1])
    extended = np.where(held, pedal[np.maximum(k, 0), 1], end)

    return np.maximum(end, np.minimum(extended, next_onset_same_pitch(pitch, start)))


# ---------------------------------------------------------------- the notes stage

def find_maestro_csv(maestro_root: Path) -> Path:
    """The CSV at `maestro_root/` or `maestro_root/maestro-v3.0.0/` (both layouts are common)."""
    for candidate in (maestro_root / CSV_NAME, maestro_root / "maestro-v3.0.0" / CSV_NAME):
        if candidate.exists():
            return candidate
    raise ExtractionError(f"{maestro_root}: no {CSV_NAME} here or in maestro-v3.0.0/; "
                          "run the fetch_maestro stage first")


def _parse_one(job: tuple[int, str, str]):
    """Worker: (index, path, sustain) -> (index, arrays or None, (reason, message) or None)."""
    i, path, sustain = job
    try:
        pm = _load_midi(Path(path))
    except CorruptMidiError as e:  # a missing file lands here too (pretty_midi's OSError)
        return i, None, ("unreadable", str(e))
    arrays = _notes_of(pm, sustain)
    if len(arrays[0]) == 0:  # nothing to learn from; a table row count of 0 would hide it
        if any(inst.is_drum and inst.notes for inst in pm.instruments):
            return i, None, ("drums_only", f"{path}: drums only, no pitched notes; remove it from the CSV")
        return i, None, ("empty", f"{path}: no notes; remove it from the CSV")
    return i, arrays, None


def extract_notes(maestro_root: Path, out_dir: Path, cfg: NotesConfig, workers: int = 2) -> dict:
    """Parse every MIDI in the MAESTRO CSV into `out_dir/` (table/, windows_*.npz, stats.json).

    Unreadable or missing files, files with no notes and drums-only files are skipped, each
    with a warning, and counted in the summary (`failed`, `failed_by_reason`, `failed_files`);
    more than `cfg.max_failed_share` of them stops the stage (ganaudio/data/failures.py).
    Everything is written into a temp folder beside `out_dir` and renamed at the end, so a failure
    leaves the previous output (or nothing) rather than half a dataset. Returns a summary dict.
    """
    t0 = time.perf_counter()
    maestro_root, out_dir = Path(maestro_root), Path(out_dir)
    csv = find_maestro_csv(maestro_root)
    meta = read_metadata(csv)
    jobs = [(i, str(csv.parent / f), cfg.sustain) for i, f in enumerate(meta["midi_filename"])]

    results: dict[int, tuple] = {}
    skipped = Skipped("notes.max_failed_share", "re-fetch the data (`dvc repro -f fetch_maestro`) "
                      "or remove those files from the CSV")
    for i, arrays, problem in _run(jobs, workers):
        if problem is None:
            results[i] = arrays
        else:
            skipped.add(problem[0], str(meta["midi_filename"].iloc[i]), problem[1])
    skipped.check(len(jobs), cfg.max_failed_share, str(csv))

    table = assemble_table(meta, results)
    with atomic_dir(out_dir) as tmp:
        summary = write_outputs(table, tmp, cfg)
    summary.update(skipped.summary(len(jobs)), seconds=round(time.perf_counter() - t0, 3))
    return summary


def read_metadata(csv: Path) -> pd.DataFrame:
    meta = pd.read_csv(csv)
    need = {"canonical_composer", "split", "midi_filename"}
    if not need <= set(meta.columns):
        raise ExtractionError(f"{csv}: missing columns {sorted(need - set(meta.columns))}; "
                              "is this a MAESTRO v3.0.0 CSV? re-run fetch_maestro")
    bad = sorted(set(meta["split"]) - set(SPLIT_NAMES))
    if bad:
        raise ExtractionError(f"{csv}: unknown split names {bad}; expected train/validation/test")
    return meta


def _run(jobs, workers: int):
    bar = dict(total=len(jobs), desc="MIDI -> notes", unit="file")
    if workers <= 1 or len(jobs) <= 1:
        yield from tqdm(map(_parse_one, jobs), **bar)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        chunk = max(1, len(jobs) // (workers * 8))
        yield from tqdm(pool.map(_parse_one, jobs, chunksize=chunk), **bar)


def assemble_table(meta: pd.DataFrame, results: dict[int, tuple]) -> pd.DataFrame:
    """One frame for all pieces, sorted by piece then onset (parse order already is)."""
    frames = []
    for i in sorted(results):
        df = notes_frame(*results[i])
        df.insert(0, "piece_id", np.int32(i))
        df.insert(1, "split", SPLIT_NAMES[meta["split"].iloc[i]])
        df.insert(2, "composer", str(meta["canonical_composer"].iloc[i]))
        frames.append(df)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            TABLE_COLUMNS, ["int32", "str", "str", "int64", "int64", "float64", "float64", "float64", "float64"])})
    return pd.concat(frames, ignore_index=True)[TABLE_COLUMNS]


def write_outputs(table: pd.DataFrame, out: Path, cfg: NotesConfig) -> dict:
    """table/ (Parquet partitioned by split), windows_<split>.npz, stats.json."""
    pads.write_dataset(
        pa.Table.from_pandas(table, preserve_index=False), out / "table", format="parquet",
        partitioning=["split"], partitioning_flavor="hive", basename_template="part-{i}.parquet",
        existing_data_behavior="overwrite_or_ignore",
        preserve_order=True)  # threaded writes otherwise reorder rows: the table is sorted by piece, onset
    notes, windows = {}, {}
    stats = None
    for split in SPLITS:  # train first: the stats come from it
        part = table[table["split"] == split]
        w, ids = make_windows(part, cfg.seq_len, cfg.stride)
        with atomic_path(out / f"windows_{split}.npz") as tmp:
            np.savez(tmp, windows=w, piece_ids=ids)
        if split == "train":
            if len(w) == 0:
                raise ExtractionError(f"no train piece has {cfg.seq_len} notes; lower notes.seq_len")
            stats = NoteStats.fit(w)
            stats.to_json(out / "stats.json")
        notes[split], windows[split] = int(len(part)), int(len(w))
    return {"notes": notes, "windows": windows,
            "pieces": {s: int(table.loc[table["split"] == s, "piece_id"].nunique()) for s in SPLITS}}

