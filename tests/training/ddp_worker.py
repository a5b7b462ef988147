"""Run by test_distributed.py under `torch.distributed.run --nproc_per_node=2`: a tiny WGAN-GP
PianoGAN for 3 steps, then each rank dumps its parameters for the test to compare."""

import os
import sys
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from ganaudio.config import PianoGANModelConfig, RuntimeConfig, TrainConfig
from ganaudio.models.registry import build_models, config_dict
from ganaudio.training.loop import train_gan

run_dir = Path(sys.argv[1])
rank = int(os.environ["RANK"])
torch.set_num_threads(1)
model = PianoGANModelConfig(latent_dim=8, d=1, seq_len=16, kernel_size=5, stride=4)
cfg = TrainConfig(loss="wgan-gp", critic_steps=2, steps=3, batch_size=4, checkpoint_every=2, log_every=1,
                  spectral_norm=sys.argv[2] == "sn")
torch.manual_seed(100 + rank)  # different inits: DDP must broadcast rank 0's
g, c = build_models("pianogan", model, cfg, (4, 16))
data = TensorDataset(torch.randn(12, 4, 16, generator=torch.Generator().manual_seed(0)))
summary = train_gan("pianogan", g, c, data, cfg, run_dir, runtime=RuntimeConfig(device="cpu", workers=0, progress=False),
                    model_config=config_dict(model), data_shape=(4, 16))
torch.save({"generator": {k: v.detach() for k, v in g.named_parameters()},
            "critic": {k: v.detach() for k, v in c.named_parameters()}, "summary": summary},
           run_dir / f"params_rank{rank}.pt")
