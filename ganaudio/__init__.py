"""ganaudio: adversarial audio synthesis (PianoGAN on MIDI notes, SpectoGAN on spectrograms)."""

__version__ = "0.1.0"
