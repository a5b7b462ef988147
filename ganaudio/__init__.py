"""ganaudio: adversarial audio synthesis (PianoGAN on MIDI notes, SpectoGAN on spectrograms)."""

import os

# Before torch loads its OpenMP runtime (which reads this once): idle OpenMP threads sleep instead
# of spinning. On a shared 2-core machine spinning threads collapsed training 14x
# (benchmarks/bench_threads.py). Set OMP_WAIT_POLICY yourself to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
