"""Two CPU processes under torchrun: gloo group, DDP with the gradient penalty, rank-0 writes."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from ganaudio.training import distributed

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sn"])  # WGAN-GP + spectral norm: double backward and SN buffers under DDP
def test_two_process_ddp_run_keeps_ranks_identical(tmp_path, mode):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(WORKER), str(tmp_path), mode],
        capture_output=True, text=True, timeout=240, env=env, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = torch.load(tmp_path / "checkpoints/latest.pt", weights_only=True)
    assert ckpt["step"] == 3 and len(ckpt["rng"]) == 2  # every rank's RNG state, for exact resume
    assert (tmp_path / "checkpoints/initial.pt").exists() and (tmp_path / "generator.pt").exists()
    assert pd.read_csv(tmp_path / "metrics.csv")["step"].tolist() == [1, 2, 3]  # one writer, no duplicates
    r0, r1 = (torch.load(tmp_path / f"params_rank{r}.pt", weights_only=False) for r in (0, 1))
    for net in ("generator", "critic"):
        for name, p in r0[net].items():
            assert torch.equal(p, r1[net][name]), f"{net}.{name} differs between ranks"
    # Training moved the weights away from rank 0's init (saved in initial.pt), on both ranks alike.
    init = torch.load(tmp_path / "checkpoints/initial.pt", weights_only=True)["generator"]
    assert not torch.equal(init["dense.weight"], r0["generator"]["dense.weight"])


def test_single_process_setup_is_a_no_op(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    d = distributed.setup("cpu")
    assert not d.enabled and d.is_main and d.device.type == "cpu"
    m = torch.nn.Linear(2, 2)
    assert distributed.wrap(m, d) is m
    assert distributed.all_true(False, d) is False and distributed.gather(5, d) == [5]
