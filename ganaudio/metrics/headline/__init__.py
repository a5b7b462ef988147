"""Headlines: the few numbers that rank one evaluation. rules.py holds every GAN's ranking rule (what
promotion compares and `ganaudio runs` shows); pianogan.py computes PianoGAN's score, its headline."""
