"""mini-MAESTRO: solo piano MIDI built from a seed, in MAESTRO v3.0.0's layout and CSV.

Why: the real MAESTRO is 58 MB of MIDI behind a download; the pipeline, its tests and a CPU
demo need something offline that still has the structure a GAN can learn and a music metric can
detect. Each piece has a key, functional chord progressions, an in-scale right-hand melody in
phrases, a left-hand pattern, a tempo with rubato, phrase dynamics, timing jitter and sustain
pedal. Six "composers" differ in tempo, meter, density and accompaniment, so the composer
column means something. Same seed -> byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi
from tqdm.auto import tqdm

from ganaudio.config import EmbeddedMaestroConfig
from ganaudio.utils.io import atomic_path, write_text

VERSION_DIR = "maestro-v3.0.0"
CSV_NAME = "maestro-v3.0.0.csv"
CSV_COLUMNS = ["canonical_composer", "canonical_title", "split", "year",
               "midi_filename", "audio_filename", "duration"]
SPLIT_SHARES = {"train": 0.75, "validation": 0.10, "test": 0.15}  # MAESTRO's split names
YEARS = [2004, 2006, 2008, 2009, 2011, 2013, 2014, 2015, 2017, 2018]
NOTES_PER_PIECE = (760, 1500)  # a period overshoots: ~1250 on average, ~150k for 120 pieces

NOTE_NAMES = ["C", "C-sharp", "D", "E-flat", "E", "F", "F-sharp", "G", "A-flat", "A", "B-flat", "B"]
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)  # natural minor; V and vii take the raised 7th (harmonic minor)
MELODY_RANGE = (60, 86)
BASS_RANGE = (36, 48)
CHORD_RANGE = (48, 62)

# Functional harmony as a Markov chain over scale degrees (0 = I ... 6 = vii).
PROGRESSION = {
    0: {3: .25, 4: .2, 5: .2, 1: .2, 2: .05, 6: .1},
    1: {4: .8, 6: .2},
    2: {5: .7, 3: .3},
    3: {4: .45, 0: .2, 1: .25, 6: .1},
    4: {0: .6, 5: .3, 3: .1},
    5: {1: .45, 3: .45, 4: .1},
    6: {0: .8, 5: .2},
}


@dataclass(frozen=True)
class Composer:
    """A style profile: what makes one composer's pieces recognisably theirs."""

    name: str
    form: str
    tempo: tuple[float, float]  # bpm range
    meter: int  # beats per bar
    chords_per_bar: int
    patterns: tuple[tuple[str, float], ...]  # accompaniment pattern -> weight
    cells: tuple[tuple[float, ...], ...]  # melody rhythm cells, each one beat long (in beats)
    minor_share: float
    leap_share: float
    rubato: float  # relative tempo swing between bars
    loudness: tuple[int, int]  # velocity range of a phrase's base level
    pedal: str  # "chord" | "bar" | "sparse"


COMPOSERS = (
    Composer("Amadeo Albertini", "Sonatina", (104, 138), 4, 1, (("alberti", .8), ("block", .2)),
             ((0.5, 0.5), (1.0,), (0.25, 0.25, 0.5), (0.25,) * 4), .2, .15, .02, (55, 85), "sparse"),
    Composer("Frederic Notturno", "Nocturne", (56, 76), 4, 1, (("arpeggio", .85), ("block", .15)),
             ((1.0,), (0.5, 0.5), (1.5 / 2, 0.5 / 2), (1 / 3,) * 3), .65, .3, .08, (40, 75), "chord"),
    Composer("Scott Stridewell", "Rag", (88, 116), 4, 2, (("stride", .9), ("block", .1)),
             ((0.5, 0.5), (0.25, 0.5, 0.25), (1.0,), (0.25,) * 4), .1, .2, .015, (60, 95), "sparse"),
    Composer("Johanna Corale", "Chorale", (60, 84), 4, 2, (("block", .7), ("arpeggio", .3)),
             ((1.0,), (1.0,), (0.5, 0.5)), .4, .08, .04, (45, 80), "bar"),
    Composer("Carl Etudiev", "Etude", (120, 152), 4, 1, (("arpeggio", .6), ("alberti", .4)),
             ((0.25,) * 4, (0.25,) * 4, (0.5, 0.5)), .5, .25, .03, (60, 100), "chord"),
    Composer("Lina Valsenko", "Waltz", (132, 168), 3, 1, (("waltz", .85), ("arpeggio", .15)),
             ((1.0,), (0.5, 0.5), (1.5 / 2, 0.5 / 2)), .45, .2, .05, (50, 85), "bar"),
)


def build_mini_maestro(out_dir: Path, cfg: EmbeddedMaestroConfig) -> Path:
    """Write `out_dir/maestro-v3.0.0/` (CSV + `<year>/*.midi`) and return that folder."""
    if cfg.pieces < 1:
        raise ValueError(f"fetch_maestro.embedded.pieces is {cfg.pieces}; it must be at least 1")
    root = Path(out_dir) / VERSION_DIR
    splits = assign_splits(cfg.pieces, np.random.default_rng([cfg.seed, 1]))
    rows = []
    for i in tqdm(range(cfg.pieces), desc="mini-MAESTRO", unit="piece"):
        rng = np.random.default_rng([cfg.seed, 2, i])
        piece = compose_piece(rng, COMPOSERS[i % len(COMPOSERS)], number=i // len(COMPOSERS) + 1)
        year = YEARS[int(rng.integers(len(YEARS)))]
        name = f"MIDI-Embedded_{i:03d}_{piece['slug']}"
        with atomic_path(root / str(year) / f"{name}.midi") as tmp:
            piece["midi"].write(str(tmp))
        rows.append({
            "canonical_composer": piece["composer"], "canonical_title": piece["title"],
            "split": splits[i], "year": year, "midi_filename": f"{year}/{name}.midi",
            "audio_filename": f"{year}/{name}.wav", "duration": round(piece["duration"], 6),
        })
    write_text(root / CSV_NAME, pd.DataFrame(rows, columns=CSV_COLUMNS).to_csv(index=False))
    return root


def assign_splits(n: int, rng: np.random.Generator) -> list[str]:
    """75/10/15 by piece, as exact counts so small sets still get every split (n >= 3)."""
    n_valid = max(1, round(n * SPLIT_SHARES["validation"])) if n >= 3 else 0
    n_test = max(1, round(n * SPLIT_SHARES["test"])) if n >= 3 else 0
    labels = ["validation"] * n_valid + ["test"] * n_test
    labels += ["train"] * (n - len(labels))
    return [labels[j] for j in rng.permutation(n)]


# ---------------------------------------------------------------- harmony

def scale(tonic: int, mode: str) -> np.ndarray:
    """Pitch classes of the key, (7,)."""
    return (tonic + np.array(MAJOR if mode == "major" else MINOR)) % 12


def chord(tonic: int, mode: str, degree: int, seventh: bool = False) -> list[int]:
    """Pitch classes of the diatonic triad (or seventh chord) on `degree`, root first."""
    pcs = list(scale(tonic, mode))
    if mode == "minor" and degree in (4, 6):
        pcs[6] = (pcs[6] + 1) % 12  # raised leading tone: V is major, vii is diminished
    steps = (0, 2, 4, 6) if seventh else (0, 2, 4)
    return [int(pcs[(degree + s) % 7]) for s in steps]


def progression(rng: np.random.Generator, bars: int, per_bar: int, cadence: str) -> list[int]:
    """Scale degrees, one per chord slot, starting on I and ending in a cadence.

    `cadence`: "authentic" (... V I) or "half" (... V), the antecedent/consequent pair of a period.
    """
    n = bars * per_bar
    degrees = [0]
    while len(degrees) < n:
        options = PROGRESSION[degrees[-1]]
        degrees.append(int(rng.choice(list(options), p=list(options.values()))))
    if cadence == "authentic":
        degrees[-per_bar:] = [0] * per_bar
        degrees[-per_bar - 1] = 4
        if n - per_bar - 2 > 0:
            degrees[-per_bar - 2] = int(rng.choice([1, 3]))  # ii-V-I or IV-V-I
    else:
        degrees[-per_bar:] = [4] * per_bar
    return degrees


# ---------------------------------------------------------------- melody

def melody_pitches(tonic: int, mode: str) -> np.ndarray:
    """All in-key MIDI pitches in the melody range, ascending."""
    pcs = set(scale(tonic, mode).tolist())
    return np.array([p for p in range(*MELODY_RANGE) if p % 12 in pcs])


def melody_bar(rng, comp: Composer, cells, pool: np.ndarray, idx: int, chord_pcs: list[int],
               phrase_pos: float, last_bar: bool, leading_tone: int | None) -> tuple[list, int]:
    """One bar of right-hand melody: [(onset_beat, dur_beats, pitch, accent)], new pool index.

    Strong beats land on chord tones near the current pitch; weak ones move by step, with an
    occasional leap. The contour rises in the first half of a phrase and falls in the second.
    """
    notes = []
    if last_bar:  # phrase end: a long chord tone, then breath
        idx = nearest_chord_tone(pool, idx, chord_pcs)
        notes.append((0.0, comp.meter - 1 + 0.5, int(pool[idx]), 1))
        return notes, idx
    direction = 1 if phrase_pos < 0.5 else -1
    for beat in range(comp.meter):
        t = float(beat)
        for k, dur in enumerate(cells[int(rng.integers(len(cells)))]):
            if k == 0 and beat in ((0, 2) if comp.meter == 4 else (0,)):
                idx = nearest_chord_tone(pool, idx, chord_pcs)
            elif rng.random() < comp.leap_share:
                idx += int(rng.choice([-4, -3, -2, 2, 3, 4]))
            else:
                idx += direction if rng.random() < 0.7 else -direction
            idx = reflect(idx, len(pool))
            pitch = int(pool[idx])
            if leading_tone is not None and pitch % 12 == (leading_tone - 1) % 12:
                pitch += 1  # harmonic minor over V
            notes.append((t, dur, pitch, int(k == 0 and beat == 0)))
            t += dur
    return notes, idx


def nearest_chord_tone(pool: np.ndarray, idx: int, chord_pcs: list[int]) -> int:
    candidates = [j for j in range(max(0, idx - 3), min(len(pool), idx + 4)) if pool[j] % 12 in chord_pcs]
    if not candidates:
        return idx
    return min(candidates, key=lambda j: (abs(j - idx), j))


def reflect(idx: int, n: int) -> int:
    if idx < 0:
        return min(-idx, n - 1)
    if idx >= n:
        return max(2 * (n - 1) - idx, 0)
    return idx


# ---------------------------------------------------------------- accompaniment

def voicing(chord_pcs: list[int]) -> tuple[int, list[int]]:
    """Bass root in BASS_RANGE and a close-position chord above it in CHORD_RANGE."""
    bass = next(p for p in range(*BASS_RANGE) if p % 12 == chord_pcs[0])
    upper = sorted(next(p for p in range(CHORD_RANGE[0], CHORD_RANGE[0] + 12) if p % 12 == pc)
                   for pc in chord_pcs[:3])
    return bass, upper


def accompaniment(pattern: str, chord_pcs: list[int], beats: int) -> list[tuple[float, float, int]]:
    """Left-hand notes for one chord lasting `beats` beats: [(onset_beat, dur_beats, pitch)]."""
    bass, (low, mid, high) = voicing(chord_pcs)
    fifth = bass + (chord_pcs[2] - chord_pcs[0]) % 12  # the chord's own fifth (diminished on vii)
    out: list[tuple[float, float, int]] = []
    if pattern == "alberti":  # low-high-mid-high in eighths
        figure = [low, high, mid, high]
        out = [(k * 0.5, 0.5, figure[k % 4]) for k in range(beats * 2)]
    elif pattern == "arpeggio":  # broken chord over a wide span, up then down
        span = [bass, fifth] + sorted(p if p > fifth else p + 12 for p in (low, mid, high))
        up_down = span + span[-2:0:-1]
        out = [(k * 0.5, 0.5 * 1.8, up_down[k % len(up_down)]) for k in range(beats * 2)]
    elif pattern == "stride":  # bass on the beat, chord off the beat
        for b in range(beats):
            if b % 2 == 0:
                out.append((b, 0.9, bass if b % 4 == 0 else fifth - 12 * (fifth >= BASS_RANGE[1])))
            else:
                out += [(b, 0.6, p) for p in (low, mid, high)]
    elif pattern == "waltz":  # oom-pah-pah
        for b in range(beats):
            out += [(b, 1.0, bass)] if b % 3 == 0 else [(b, 0.7, p) for p in (low, mid, high)]
    else:  # block chords, held
        for b in range(0, beats, 2):
            held = min(2, beats - b)
            out += [(b, held, p) for p in (bass, low, mid, high)]
    return out


# ---------------------------------------------------------------- performance

def weighted_choice(rng, pairs):
    names, weights = zip(*pairs)
    w = np.array(weights) / sum(weights)
    return names[int(rng.choice(len(names), p=w))]


def compose_piece(rng: np.random.Generator, comp: Composer, number: int) -> dict:
    """A whole piece as a PrettyMIDI plus its CSV fields."""
    mode = "minor" if rng.random() < comp.minor_share else "major"
    tonic = int(rng.integers(12))
    tempo = float(rng.uniform(*comp.tempo))
    pattern = weighted_choice(rng, comp.patterns)
    cells = [comp.cells[int(j)] for j in rng.choice(len(comp.cells), size=min(3, len(comp.cells)), replace=False)]
    pool = melody_pitches(tonic, mode)
    idx = int(np.searchsorted(pool, 67))
    target = int(rng.integers(*NOTES_PER_PIECE))

    events = []  # (onset_beat, dur_beats, pitch, velocity_offset, is_melody); absolute beats
    chord_starts = []  # absolute beats where a harmony begins (for the pedal)
    phrases = []  # (first_bar, n_bars, dynamic)
    bar = 0
    while len(events) < target:
        n_bars = int(rng.choice([4, 8]))
        for cadence in ("half", "authentic"):  # a period: antecedent + consequent
            dynamic = int(rng.integers(*comp.loudness))
            phrases.append((bar, n_bars, dynamic))
            degrees = progression(rng, n_bars, comp.chords_per_bar, cadence)
            beats_per_chord = comp.meter // comp.chords_per_bar
            for b in range(n_bars):
                start = (bar + b) * comp.meter
                slot = degrees[b * comp.chords_per_bar:(b + 1) * comp.chords_per_bar]
                for c, degree in enumerate(slot):
                    pcs = chord(tonic, mode, degree, seventh=degree == 4 and rng.random() < 0.3)
                    chord_starts.append(start + c * beats_per_chord)
                    for on, dur, p in accompaniment(pattern, pcs, beats_per_chord):
                        events.append((start + c * beats_per_chord + on, dur, p, int(on == 0), False))
                pcs = chord(tonic, mode, slot[0])
                lead = (tonic + 11) % 12 if mode == "minor" and slot[0] in (4, 6) else None
                notes, idx = melody_bar(rng, comp, cells, pool, idx, pcs, b / n_bars,
                                        b == n_bars - 1, lead)
                events += [(start + on, dur, p, acc, True) for on, dur, p, acc in notes]
            bar += n_bars
    pm = perform(rng, comp, tempo, events, chord_starts, phrases, bar)
    title = f"{comp.form} No. {number} in {NOTE_NAMES[tonic]} {mode}"
    slug = f"{comp.form}_{number}_{NOTE_NAMES[tonic].replace('-', '')}_{mode}".lower()
    return {"midi": pm, "composer": comp.name, "title": title, "slug": slug,
            "duration": pm.get_end_time(), "key": (tonic, mode)}


def beat_clock(rng, comp: Composer, tempo: float, phrases, n_bars: int):
    """Beat -> seconds with rubato: a tempo per bar, slowing into each phrase's last bar."""
    spb = np.full(n_bars, 60.0 / tempo)
    spb *= np.exp(rng.normal(0, comp.rubato, n_bars))
    for first, length, _ in phrases:
        spb[first + length - 1] *= 1.0 + 3 * comp.rubato + 0.05  # ritardando
    bar_start = np.concatenate([[0.0], np.cumsum(spb * comp.meter)])

    def seconds(beat):
        b = np.minimum((np.asarray(beat) // comp.meter).astype(int), n_bars - 1)
        return bar_start[b] + (np.asarray(beat) - b * comp.meter) * spb[b]
    return seconds


def perform(rng, comp: Composer, tempo: float, events, chord_starts, phrases, n_bars) -> pretty_midi.PrettyMIDI:
    """Humanise: beats -> seconds with rubato, phrase dynamics + accents, timing jitter, pedal."""
    seconds = beat_clock(rng, comp, tempo, phrases, n_bars)
    ev = np.array([(o, d, p, a, m) for o, d, p, a, m in events], dtype=float)  # (N, 5)
    onset, dur, pitch, accent, melody = ev.T
    start = seconds(onset) + rng.normal(0, 0.008, len(ev))
    end = seconds(onset + dur * 0.92) + rng.normal(0, 0.008, len(ev))
    start = np.maximum(start, 0.0)
    end = np.maximum(end, start + 0.03)

    phrase_of_bar = np.zeros(n_bars, dtype=int)
    for k, (first, length, _) in enumerate(phrases):
        phrase_of_bar[first:first + length] = k
    bar = np.minimum(onset // comp.meter, n_bars - 1).astype(int)
    first = np.array([phrases[k][0] for k in phrase_of_bar[bar]])
    length = np.array([phrases[k][1] for k in phrase_of_bar[bar]])
    level = np.array([phrases[k][2] for k in phrase_of_bar[bar]], dtype=float)
    arc = np.sin(np.pi * ((onset / comp.meter) - first) / length)  # swell to mid-phrase
    velocity = level + 12 * arc + 8 * accent + 10 * melody - 6 + rng.normal(0, 4, len(ev))
    velocity = np.clip(np.round(velocity), 1, 127).astype(int)

    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    piano = pretty_midi.Instrument(program=0, name="Piano")
    order = np.lexsort((pitch, start))
    piano.notes = [pretty_midi.Note(int(velocity[i]), int(pitch[i]), float(start[i]), float(end[i]))
                   for i in order]
    piano.control_changes = pedal(rng, comp, seconds, chord_starts, float(end.max()))
    pm.instruments.append(piano)
    return pm


def pedal(rng, comp: Composer, seconds, chord_starts, piece_end: float) -> list[pretty_midi.ControlChange]:
    """CC64 down just after a harmony starts, up just before the next one (legato pedalling)."""
    changes = sorted(set(chord_starts))
    if comp.pedal == "bar":
        changes = [c for c in changes if c % comp.meter == 0]
    out = []
    for k, beat in enumerate(changes):
        if comp.pedal == "sparse" and rng.random() < 0.5:
            continue
        down = float(seconds(beat)) + 0.05
        up = float(seconds(changes[k + 1])) - 0.02 if k + 1 < len(changes) else piece_end
        if up > down:
            out += [pretty_midi.ControlChange(64, 127, down), pretty_midi.ControlChange(64, 0, up)]
    return out
