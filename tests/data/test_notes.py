import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi
import pytest

from ganaudio.config import EmbeddedMaestroConfig, NotesConfig
from ganaudio.data.embedded.piano import build_mini_maestro
from ganaudio.data.notes import TABLE_COLUMNS, CorruptMidiError, ExtractionError, extract_notes, midi_to_notes
from ganaudio.data.windows import FEATURES, NoteStats
from ganaudio.plots.piano import plot_note_histograms


def write_midi(path: Path, notes, pedal=(), drums=()) -> Path:
    """notes: (pitch, start, end[, velocity]); pedal: (time, value) CC64 events."""
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)  # 960 ticks/s: times below are exact
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(n[3] if len(n) > 3 else 80, n[0], n[1], n[2]) for n in notes]
    piano.control_changes = [pretty_midi.ControlChange(64, v, t) for t, v in pedal]
    pm.instruments.append(piano)
    if drums:
        kit = pretty_midi.Instrument(program=0, is_drum=True)
        kit.notes = [pretty_midi.Note(100, p, s, e) for p, s, e in drums]
        pm.instruments.append(kit)
    pm.write(str(path))
    return path


def test_known_notes_give_exact_steps_and_durations(tmp_path):
    path = write_midi(tmp_path / "a.mid", [(67, 0.5, 0.75, 90), (60, 0.0, 0.5, 70), (64, 0.5, 1.0, 80)],
                      drums=[(36, 0.25, 0.5)])
    df = midi_to_notes(path)
    assert list(df.columns) == ["pitch", "velocity", "start", "end", "step", "duration"]
    assert df.pitch.tolist() == [60, 64, 67]  # sorted by (start, pitch); the drum is dropped
    assert df.velocity.tolist() == [70, 80, 90]
    np.testing.assert_allclose(df.start, [0.0, 0.5, 0.5], atol=1e-9)
    np.testing.assert_allclose(df.step, [0.0, 0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(df.duration, [0.5, 0.5, 0.25], atol=1e-9)


def test_instruments_are_merged(tmp_path):
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    for prog, pitch, start in [(0, 60, 1.0), (40, 72, 0.5)]:
        inst = pretty_midi.Instrument(program=prog)
        inst.notes = [pretty_midi.Note(80, pitch, start, start + 0.5)]
        pm.instruments.append(inst)
    pm.write(str(tmp_path / "m.mid"))
    df = midi_to_notes(tmp_path / "m.mid")
    assert df.pitch.tolist() == [72, 60]
    np.testing.assert_allclose(df.step, [0.0, 0.5])


def test_sustain_extend_vs_ignore(tmp_path):
    notes = [
        (65, 0.0, 0.125),  # released before the pedal goes down: unchanged
        (60, 0.0, 0.5),  # released under the pedal, then re-struck at 1.25: cut there
        (62, 1.0, 1.5),  # released under the pedal: sounds until the pedal lifts at 2.0
        (60, 1.25, 1.375),  # the re-strike: held to 2.0
        (64, 2.5, 3.0),  # after the pedal: unchanged
    ]
    path = write_midi(tmp_path / "p.mid", notes, pedal=[(0.25, 127), (2.0, 0)])
    ext = midi_to_notes(path, sustain="extend").set_index(["pitch", "start"])["end"]
    raw = midi_to_notes(path, sustain="ignore").set_index(["pitch", "start"])["end"]
    assert raw.to_dict() == pytest.approx({(65, 0.0): 0.125, (60, 0.0): 0.5, (62, 1.0): 1.5,
                                           (60, 1.25): 1.375, (64, 2.5): 3.0})
    assert ext.to_dict() == pytest.approx({(65, 0.0): 0.125, (60, 0.0): 1.25, (62, 1.0): 2.0,
                                           (60, 1.25): 2.0, (64, 2.5): 3.0})


def test_pedal_never_released_holds_to_the_end(tmp_path):
    path = write_midi(tmp_path / "q.mid", [(60, 0.0, 0.25), (62, 1.0, 1.5)], pedal=[(0.0, 100)])
    df = midi_to_notes(path)
    np.testing.assert_allclose(df.end, [1.5, 1.5])


@pytest.mark.parametrize("content", [b"not a midi file at all", b"MThd\x00\x00\x00\x06\x00\x01\x00"])
def test_corrupt_midi_names_the_file(tmp_path, content):
    bad = tmp_path / "broken_piece.midi"
    bad.write_bytes(content)
    with pytest.raises(CorruptMidiError, match="broken_piece.midi"):
        midi_to_notes(bad)


def test_truncated_midi_is_corrupt(tmp_path):
    good = write_midi(tmp_path / "g.mid", [(60 + i % 12, i * 0.1, i * 0.1 + 0.3) for i in range(200)])
    cut = tmp_path / "cut.mid"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CorruptMidiError, match="cut.mid"):
        midi_to_notes(cut)


# ---------------------------------------------------------------- extract_notes

CFG = NotesConfig(seq_len=32, stride=16, max_failed_share=0.2)


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("maestro")
    build_mini_maestro(out, EmbeddedMaestroConfig(pieces=8, seed=1))
    return out


def copy_set(src: Path, dst: Path) -> Path:
    import shutil
    shutil.copytree(src, dst)
    return dst


def test_extract_end_to_end(tiny_set, tmp_path):
    out = tmp_path / "notes"
    summary = extract_notes(tiny_set, out, CFG, workers=2)  # the process pool path
    meta = pd.read_csv(tiny_set / "maestro-v3.0.0" / "maestro-v3.0.0.csv")

    assert sorted(p.name for p in (out / "table").iterdir()) == ["split=test", "split=train", "split=valid"]
    table = pd.read_parquet(out / "table")
    assert set(TABLE_COLUMNS) == set(table.columns)
    assert set(table.split.astype(str)) == {"train", "valid", "test"}
    for split, part in table.groupby("split", observed=True):
        keys = list(zip(part.piece_id, part.start))
        assert keys == sorted(keys), split  # sorted by piece then onset
    # every note of every file, with the CSV's split and composer
    expected = sum(len(midi_to_notes(tiny_set / "maestro-v3.0.0" / f)) for f in meta.midi_filename)
    assert len(table) == expected
    first = table[table.piece_id == 0]
    assert first.composer.iloc[0] == meta.canonical_composer[0]
    assert first.split.astype(str).iloc[0] == {"validation": "valid"}.get(meta.split[0], meta.split[0])

    assert summary["files"] == 8 and summary["failed"] == 0
    assert sum(summary["notes"].values()) == expected
    for split in ("train", "valid", "test"):
        z = np.load(out / f"windows_{split}.npz")
        assert z["windows"].shape == (summary["windows"][split], 32, len(FEATURES))
        assert z["windows"].dtype == np.float32 and len(z["piece_ids"]) == len(z["windows"])
    stats = NoteStats.from_json(out / "stats.json")
    assert stats.median_step > 0 and stats.median_duration > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


def skipped_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped ")]


def test_corrupt_file_is_skipped_with_a_warning(tiny_set, tmp_path, caplog):
    root = copy_set(tiny_set, tmp_path / "m")
    meta = pd.read_csv(root / "maestro-v3.0.0" / "maestro-v3.0.0.csv")
    (root / "maestro-v3.0.0" / meta.midi_filename[2]).write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING):
        summary = extract_notes(root, tmp_path / "notes", CFG, workers=1)
    (line,) = skipped_lines(caplog)
    assert Path(meta.midi_filename[2]).name in line and "\n" not in line
    assert summary["failed"] == 1 and summary["files"] == 8
    assert summary["failed_by_reason"] == {"unreadable": 1}
    assert 2 not in set(pd.read_parquet(tmp_path / "notes" / "table").piece_id)


@pytest.mark.parametrize("workers", [1, 2])  # the process pool must report them too
def test_empty_and_drums_only_files_are_skipped_counted_and_listed(tiny_set, tmp_path, caplog, workers):
    root = copy_set(tiny_set, tmp_path / "m")
    meta = pd.read_csv(root / "maestro-v3.0.0" / "maestro-v3.0.0.csv")
    write_midi(root / "maestro-v3.0.0" / meta.midi_filename[1], [])
    write_midi(root / "maestro-v3.0.0" / meta.midi_filename[4], [], drums=[(36, 0.0, 0.5), (38, 0.5, 1.0)])
    with caplog.at_level(logging.WARNING):
        summary = extract_notes(root, tmp_path / "notes", NotesConfig(seq_len=32, stride=16, max_failed_share=0.3),
                                workers=workers)
    assert summary["failed"] == 2 and summary["failed_by_reason"] == {"drums_only": 1, "empty": 1}
    listed = summary["failed_files"]
    assert Path(meta.midi_filename[1]).name in listed[0] and "no notes" in listed[0]
    assert Path(meta.midi_filename[4]).name in listed[1] and "drums only" in listed[1]
    json.dumps(summary)  # the stage writes it as notes.json
    assert len(skipped_lines(caplog)) == 2
    table = pd.read_parquet(tmp_path / "notes" / "table")
    assert not {1, 4} & set(table.piece_id)
    assert sum(summary["notes"].values()) == len(table)


def test_empty_files_count_towards_max_failed_share(tiny_set, tmp_path):
    root = copy_set(tiny_set, tmp_path / "m")
    meta = pd.read_csv(root / "maestro-v3.0.0" / "maestro-v3.0.0.csv")
    for f in meta.midi_filename[:2]:
        write_midi(root / "maestro-v3.0.0" / f, [])
    write_midi(root / "maestro-v3.0.0" / meta.midi_filename[2], [], drums=[(36, 0.0, 0.5)])
    with pytest.raises(ExtractionError) as e:
        extract_notes(root, tmp_path / "notes", CFG, workers=1)  # 3 of 8 > 0.2
    msg = str(e.value)
    assert "3 of 8" in msg and "38%" in msg and "notes.max_failed_share=0.2" in msg and "\n" not in msg
    assert Path(meta.midi_filename[0]).name in msg and "drums_only" in msg
    assert not (tmp_path / "notes").exists()
    summary = extract_notes(root, tmp_path / "notes", NotesConfig(seq_len=32, stride=16, max_failed_share=0.4),
                            workers=1)
    assert summary["failed"] == 3


def test_too_many_corrupt_files_is_an_error(tiny_set, tmp_path):
    root = copy_set(tiny_set, tmp_path / "m")
    meta = pd.read_csv(root / "maestro-v3.0.0" / "maestro-v3.0.0.csv")
    for f in meta.midi_filename[:3]:
        (root / "maestro-v3.0.0" / f).write_bytes(b"garbage")
    (root / "maestro-v3.0.0" / meta.midi_filename[3]).unlink()  # missing counts as failed too
    with pytest.raises(ExtractionError, match="4 of 8"):
        extract_notes(root, tmp_path / "notes", CFG, workers=1)
    assert not (tmp_path / "notes").exists()


def test_failure_while_writing_keeps_the_old_output(tiny_set, tmp_path):
    out = tmp_path / "notes"
    extract_notes(tiny_set, out, CFG, workers=1)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(ExtractionError, match="seq_len"):
        extract_notes(tiny_set, out, NotesConfig(seq_len=10**6), workers=1)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]  # no temp dir left behind


def test_missing_csv_is_a_clear_error(tmp_path):
    with pytest.raises(ExtractionError, match="fetch_maestro"):
        extract_notes(tmp_path, tmp_path / "out", CFG, workers=1)


def test_note_histograms_png(tiny_set, tmp_path):
    df = midi_to_notes(next((tiny_set / "maestro-v3.0.0").rglob("*.midi")))
    plot_note_histograms(df, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["h.png"]
