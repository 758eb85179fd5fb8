"""One training process: the model, its optimiser and every random generator, one step at a time.

`Trainer.state_dict` is exactly what `last.ckpt` holds, so a resumed run is bit-identical to an
uninterrupted one on the same device (and resumes on any other). `validate` scores held-out photos;
`profile` times a few steps with torch.profiler.
"""

import os
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from liif.core.model import LIIF, LIIFConfig
from liif.core.weights import load_weights
from liif.evaluation.metrics import detail_levels, psnr_y
from liif.render.engine import Upscaler, cpu_has_fast_bf16, pick_device, synchronize
from liif.render.imageio import to_uint8
from liif.render.pictures import shrink_tensor
from liif.training.config import TrainConfig, learning_rate
from liif.training.data import CropSampler


class Trainer:
    """Everything a training process holds (model, optimiser, step, generators); `state_dict` is what a
    checkpoint saves, `train_step` is one optimiser step."""

    def __init__(self, cfg: TrainConfig, rank=0, world=1):
        self.cfg, self.rank, self.world = cfg, rank, world
        self.device = pick_device(cfg.device)
        if world > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        self.bf16 = cfg.precision == "bf16" or (
            cfg.precision == "auto" and (self.device.type == "cuda" or (self.device.type == "cpu" and cpu_has_fast_bf16()))
        )
        torch.manual_seed(cfg.seed)
        self.lineage = []  # training records of the runs this one continues (from --init), oldest first
        if cfg.init:
            initial = load_weights(cfg.init)
            for key in ("encoder", "residual"):  # the weights decide what is trained
                if getattr(initial.config, key) != getattr(cfg, key):
                    if rank == 0:
                        print(f"note: {cfg.init} has {key}={getattr(initial.config, key)!r}; training it as such")
                    setattr(cfg, key, getattr(initial.config, key))
            self.lineage = initial.lineage
        self.model = LIIF(LIIFConfig(encoder=cfg.encoder, residual=cfg.residual))
        if cfg.init:
            if initial.config != self.model.config:
                raise ValueError(f"{cfg.init} holds a {initial.config.encoder} LIIF ({initial.config}); "
                                 f"this run trains {self.model.config}")
            self.model.load_state_dict(initial.model.state_dict())
        self.model.to(self.device)
        self.model.encoder.to(memory_format=torch.channels_last)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input shapes: pick the fastest kernels once
        self.net = self.model
        if world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        if cfg.compile != "off":
            self.net = torch.compile(self.net, mode=cfg.compile)
        # Fused Adam: one kernel for all parameters on CUDA instead of several per tensor.
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, fused=self.device.type == "cuda")
        self.step = 0
        self.elapsed = 0.0  # training seconds over all sessions of this run
        self.time_boxed = False  # cfg.steps was planned by --minutes, so a resumed session keeps it
        # Every rank draws the same global batch and keeps its share, so all ranks hold the same
        # generator state and one checkpoint resumes them all exactly.
        self.generator = torch.Generator().manual_seed(cfg.seed)

    @property
    def exported(self):
        """The model that is validated and exported (the adversarial trainer may export an average)."""
        return self.model

    def my_share(self, batch):
        n = batch[0].shape[0] // self.world
        return tuple(t[self.rank * n : (self.rank + 1) * n] for t in batch)

    def state_dict(self):
        return {
            "config": asdict(self.cfg),
            "planned_steps": self.cfg.steps,
            "time_boxed": self.time_boxed,
            "lineage": self.lineage,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state):
        """Resume from a checkpoint read onto the CPU (`load_checkpoint`), whatever device wrote it: the
        weights and Adam's moments move to this run's device, the RNG states stay on the CPU."""
        self.model.load_state_dict(state["model"])  # copies into the parameters, on their device
        self.optimizer.load_state_dict(state["optimizer"])  # moves Adam's state to each parameter's device
        self.step, self.elapsed = state["step"], state["elapsed"]
        self.time_boxed = state.get("time_boxed", False)
        if self.time_boxed:
            self.cfg.steps = state["planned_steps"]  # a time-boxed run keeps its plan and its schedule
        self.lineage = state.get("lineage", self.lineage)
        self.generator.set_state(state["generator"].to("cpu", torch.uint8))
        torch.set_rng_state(state["torch_rng"].to("cpu", torch.uint8))

    def train_step(self, batch) -> torch.Tensor:
        """One optimiser step; returns the loss as a tensor on the device (no wait for the GPU here)."""
        inp, coord, cell, gt = (t.to(self.device, non_blocking=True) for t in batch)
        inp = inp.contiguous(memory_format=torch.channels_last)
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.cfg, self.step)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            pred = self.net(inp, coord, cell)
        loss = F.l1_loss(pred.float(), gt)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return loss.detach()


def validate(model: LIIF, images: list, scales=(2, 4, 8), crop=240, precision="fp32", detail=False) -> dict:
    """Mean PSNR-Y on centre crops of held-out training-folder photos (never benchmark images); with
    `detail`, also the renders' fine detail at the largest scale as a share of the real crops'
    (`detail_levels`: 1.0 is as detailed as the photo, an L1 model sits well below)."""
    was_training = model.training
    engine = Upscaler(model, device=next(model.parameters()).device, precision=precision)
    result = {}
    for s in scales:
        scores, drawn, real = [], [], []
        for image in images:
            _, h, w = image.shape
            size = min(crop, h, w) // s * s
            y0, x0 = (h - size) // 2, (w - size) // 2
            hr = image[:, y0 : y0 + size, x0 : x0 + size].float()[None] / 255
            lr = shrink_tensor(hr, size // s, size // s)
            out = engine.render(lr, size, size)
            scores.append(psnr_y(to_uint8(out), to_uint8(hr), shave=s))
            if detail and s == max(scales):
                drawn.append(detail_levels(to_uint8(out)))
                real.append(detail_levels(to_uint8(hr)))
        result[f"val_x{s}"] = float(np.mean(scores))
        if drawn:
            result[f"detail_x{s}"] = float(np.mean(drawn) / max(np.mean(real), 1e-9))
    model.train(was_training)
    return result


def hardware_description(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def load_checkpoint(path: Path) -> dict:
    """A checkpoint read onto the CPU, whichever device wrote it; `Trainer.load_state_dict` moves what must move."""
    return torch.load(path, map_location="cpu", weights_only=False)


def atomic_save(obj, path: Path) -> None:
    """Write a checkpoint under a temporary name and rename it: an interruption never leaves half a file."""
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def profile(run: Trainer, sampler: CropSampler, steps: int, warmup: int = 5) -> None:
    """Profile `steps` training steps after `warmup` (torch.profiler) and print the top entries."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    for _ in range(warmup):
        run.train_step(sampler.sample(run.cfg.batch_size, run.generator))
    synchronize(run.device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if run.device.type == "cuda" else [])
    start = time.perf_counter()
    with torch_profile(activities=activities) as prof:
        for _ in range(steps):
            run.train_step(sampler.sample(run.cfg.batch_size, run.generator))
        synchronize(run.device)
    seconds = (time.perf_counter() - start) / steps
    sort = "self_cuda_time_total" if run.device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=15, max_name_column_width=60))
    print(f"profiled {steps} steps: {seconds * 1000:.1f} ms per step (with the profiler's overhead), "
          f"{run.cfg.batch_size / seconds:.0f} samples/s")
