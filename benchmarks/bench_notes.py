"""MIDI -> note table: `midi_to_notes` vs a bare pretty_midi loop on the same files.

The bare loop (load, then list every note's fields) is the floor any pretty_midi-based reader
pays; midi_to_notes adds sustain handling, sorting and a DataFrame. Target: >= 0.8x the bare
loop's throughput. Single process both, best of `--repeats`.

    python benchmarks/bench_notes.py [--pieces 24] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pretty_midi

from ganaudio.config import EmbeddedMaestroConfig
from ganaudio.data.embedded.piano import build_mini_maestro
from ganaudio.data.notes import midi_to_notes


def bare_loop(files: list[Path]) -> int:
    n = 0
    for f in files:
        pm = pretty_midi.PrettyMIDI(str(f))
        notes = [(x.pitch, x.velocity, x.start, x.end) for inst in pm.instruments for x in inst.notes]
        n += len(notes)
    return n


def ours(files: list[Path], sustain: str) -> int:
    return sum(len(midi_to_notes(f, sustain=sustain)) for f in files)


def best_times(fns: dict, repeats: int) -> dict[str, tuple[float, int]]:
    """Best wall time of each fn; rounds interleave them so load from other processes hits all alike."""
    best = {k: (float("inf"), 0) for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            n = fn()
            best[k] = (min(best[k][0], time.perf_counter() - t0), n)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pieces", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = build_mini_maestro(Path(tmp), EmbeddedMaestroConfig(pieces=args.pieces, seed=0))
        files = sorted(root.rglob("*.midi"))
        res = best_times({"bare": lambda: bare_loop(files),
                          "extend": lambda: ours(files, "extend"),
                          "ignore": lambda: ours(files, "ignore")}, args.repeats)
        t_base, n_base = res["bare"]
        print(f"{len(files)} files, {n_base} notes")
        print(f"bare pretty_midi loop : {len(files) / t_base:7.1f} files/s {n_base / t_base:10.0f} notes/s")
        for sustain in ("extend", "ignore"):
            t, n = res[sustain]
            print(f"midi_to_notes({sustain:6s}): {len(files) / t:7.1f} files/s {n / t:10.0f} notes/s"
                  f"  ratio {t_base / t:.2f}x (target >= 0.8x)")

if __name__ == "__main__":
    main()
