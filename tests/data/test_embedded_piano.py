from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi
import pytest

from ganaudio.config import EmbeddedMaestroConfig
from ganaudio.data.embedded.piano import (COMPOSERS, CSV_COLUMNS, MAJOR, MINOR, NOTE_NAMES,
                                          assign_splits, build_mini_maestro, chord, progression)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # One piece per composer: enough to check every style, fast enough for a unit test.
    out = tmp_path_factory.mktemp("mm")
    root = build_mini_maestro(out, EmbeddedMaestroConfig(pieces=len(COMPOSERS), seed=3))
    return root, pd.read_csv(root / "maestro-v3.0.0.csv")


def load(root: Path, row) -> pretty_midi.PrettyMIDI:
    return pretty_midi.PrettyMIDI(str(root / row.midi_filename))


def key_of(title: str) -> tuple[int, str]:
    words = title.split(" in ")[-1].split()
    return NOTE_NAMES.index(words[0]), words[1]


def in_key_share(pitches: np.ndarray, tonic: int, mode: str) -> float:
    pcs = set(((tonic + np.array(MAJOR if mode == "major" else MINOR)) % 12).tolist())
    if mode == "minor":
        pcs.add((tonic + 11) % 12)  # harmonic minor's leading tone over V
    return float(np.isin(pitches % 12, list(pcs)).mean())


def test_layout_and_csv_match_maestro(built):
    root, df = built
    assert root.name == "maestro-v3.0.0"
    assert list(df.columns) == CSV_COLUMNS
    assert len(df) == len(COMPOSERS)
    for row in df.itertuples():
        path = root / row.midi_filename
        assert path.is_file() and path.suffix == ".midi"
        assert row.midi_filename.startswith(f"{row.year}/")
        pm = load(root, row)
        assert len(pm.instruments) == 1 and pm.instruments[0].program == 0
        assert row.duration == pytest.approx(pm.get_end_time(), abs=1e-3)
    assert set(df.split) <= {"train", "validation", "test"}
    assert df.canonical_composer.nunique() == len(COMPOSERS)


def test_default_size_and_note_count():
    assert EmbeddedMaestroConfig().pieces >= 100
    # ~150k notes for 120 pieces <=> ~1250 notes a piece, checked on the built styles below.


def test_notes_per_piece_near_target(built):
    root, df = built
    counts = [len(load(root, r).instruments[0].notes) for r in df.itertuples()]
    assert 900 <= np.mean(counts) <= 1700, counts


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = build_mini_maestro(tmp_path / "a", EmbeddedMaestroConfig(pieces=3, seed=7))
    b = build_mini_maestro(tmp_path / "b", EmbeddedMaestroConfig(pieces=3, seed=7))
    c = build_mini_maestro(tmp_path / "c", EmbeddedMaestroConfig(pieces=3, seed=8))
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "maestro-v3.0.0.csv").read_bytes() != (c / "maestro-v3.0.0.csv").read_bytes()


def test_splits_are_75_10_15_by_piece():
    splits = assign_splits(120, np.random.default_rng(0))
    assert (splits.count("train"), splits.count("validation"), splits.count("test")) == (90, 12, 18)
    assert set(assign_splits(5, np.random.default_rng(0))) == {"train", "validation", "test"}


def test_notes_stay_in_the_key_of_the_title(built):
    root, df = built
    for row in df.itertuples():
        tonic, mode = key_of(row.canonical_title)
        pitches = np.array([n.pitch for n in load(root, row).instruments[0].notes])
        assert in_key_share(pitches, tonic, mode) > 0.97, row.canonical_title
        # the same notes read in the key a tritone away are clearly out of key
        assert in_key_share(pitches, (tonic + 6) % 12, mode) < 0.75


def test_sustain_pedal_goes_down_and_up(built):
    root, df = built
    for row in df.itertuples():
        ccs = [c for c in load(root, row).instruments[0].control_changes if c.number == 64]
        values = {c.value >= 64 for c in ccs}
        assert values == {True, False}, row.canonical_title


def test_composers_differ_in_pace(built):
    root, df = built
    rate = {r.canonical_composer: len(load(root, r).instruments[0].notes) / r.duration for r in df.itertuples()}
    assert rate["Carl Etudiev"] > 1.5 * rate["Frederic Notturno"]


def test_progressions_are_functional():
    rng = np.random.default_rng(0)
    for _ in range(50):
        degs = progression(rng, bars=8, per_bar=1, cadence="authentic")
        assert degs[0] == 0 and degs[-2:] == [4, 0]
        assert progression(rng, bars=4, per_bar=2, cadence="half")[-2:] == [4, 4]
    assert chord(0, "major", 4) == [7, 11, 2]  # G major in C
    assert chord(9, "minor", 4) == [4, 8, 11]  # E major in A minor (raised G#)


def test_zero_pieces_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="pieces"):
        build_mini_maestro(tmp_path, EmbeddedMaestroConfig(pieces=0))
