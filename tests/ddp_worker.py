"""Run by tests/test_train.py under torchrun: train a few steps, save this rank's weights."""

import sys

import torch
import torch.distributed as dist

from liif.training.config import TrainConfig
from liif.training.loop import train

data, runs_dir, out_dir = sys.argv[1:4]
cfg = TrainConfig(data=[data], name="ddp", steps=3, batch_size=4, lr_size=16, n_queries=64, holdout=1,
                  val_every=1000, runs_dir=runs_dir, export=f"{runs_dir}/ddp.safetensors", device="cpu",
                  precision="fp32", warmup_steps=1)
run = train(cfg, resume=False, show_progress=False)
torch.save(run.model.state_dict(), f"{out_dir}/rank{run.rank}.pt")
dist.destroy_process_group()
