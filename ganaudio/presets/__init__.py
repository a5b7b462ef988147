"""Named presets: small overrides applied on top of the config dataclasses' defaults (the paper
recipe for training), one module per params.yaml section that has them.

One module per section so that DVC lists each as a dependency of exactly the stages whose resolved
parameters it changes (params.yaml records only the preset's name): an edit to SpectoGAN's preset
reruns SpectoGAN's stages and nothing else. common.py holds the pieces several GANs share.
"""
