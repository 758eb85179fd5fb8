"""Training loop in plain PyTorch: `python -m liif train --data DIR [--config configs/x.yaml] [flags]`.

One process, or several under `torchrun` (DistributedDataParallel; gloo on CPU, nccl on CUDA). A run
lives in `runs/<name>/`: `last.ckpt` (model, optimiser, step and every RNG state, so a resumed run is
bit-identical to an uninterrupted one), `log.csv`, and the exported fp16 weights.
"""

import csv
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from liif import geometry
from liif.data import CropSampler, decode, list_images, split_holdout
from liif.engine import Upscaler, cpu_has_fast_bf16, pick_device
from liif.metrics import psnr_y
from liif.model import LIIF, LIIFConfig, count_parameters
from liif.weights import save_weights


@dataclass
class TrainConfig:
    data: list = field(default_factory=list)  # image folders
    name: str = "edsr-baseline-liif"
    encoder: str = "edsr-baseline"
    residual: str = "bicubic"
    steps: int = 3000
    batch_size: int = 16  # global: split across processes under torchrun
    lr: float = 4e-4
    # "onecycle": linear warm-up, then cosine decay to lr * final_lr_ratio at `steps` (suits short runs);
    # "paper": constant lr halved at every 20% of `steps` (the LIIF paper's schedule; use lr 1e-4).
    schedule: str = "onecycle"
    warmup_steps: int = 50
    final_lr_ratio: float = 0.02
    lr_size: int = 48
    scale_min: float = 1.0
    scale_max: float = 4.0
    n_queries: int = 2304
    max_side: int = 2040  # larger photos are reduced to DIV2K's width: sharper pixels, less memory
    holdout: int = 4  # training-folder images kept out for validation
    val_every: int = 250
    ckpt_every: int = 50
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # bf16 autocast where fast (CPU with AMX/AVX512-BF16, CUDA), else fp32
    runs_dir: str = "runs"
    export: str = ""  # weights/<name>.safetensors when empty
    data_on_device: bool = True  # keep decoded photos on the GPU and crop there

    @classmethod
    def from_sources(cls, yaml_path=None, **overrides):
        values = {}
        if yaml_path:
            import yaml

            with open(yaml_path) as f:
                values.update(yaml.safe_load(f) or {})
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training options: {unknown}")
        return cls(**values)


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Learning rate for optimiser step `step` (0-based); a pure function, so resuming needs no state."""
    if cfg.schedule == "paper":
        return cfg.lr * 0.5 ** math.floor(5 * step / cfg.steps)
    if cfg.schedule == "onecycle":
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        floor = cfg.lr * cfg.final_lr_ratio
        return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    if cfg.schedule == "constant":
        return cfg.lr
    raise ValueError(f"unknown schedule {cfg.schedule!r}: use onecycle, paper or constant")


# ----------------------------------------------------------------------------------------------------


class Run:
    """Everything a training process holds; `state_dict` is what a checkpoint saves."""

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
        self.model = LIIF(LIIFConfig(encoder=cfg.encoder, residual=cfg.residual)).to(self.device)
        self.model.encoder.to(memory_format=torch.channels_last)
        self.net = self.model
        if world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.step = 0
        self.elapsed = 0.0  # training seconds over all sessions of this run
        # Every rank draws the same global batch and keeps its share, so all ranks hold the same
        # generator state and one checkpoint resumes them all exactly.
        self.generator = torch.Generator().manual_seed(cfg.seed)

    def my_share(self, batch):
        n = batch[0].shape[0] // self.world
        return tuple(t[self.rank * n : (self.rank + 1) * n] for t in batch)

    def state_dict(self):
        return {
            "config": asdict(self.cfg),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.elapsed = state["step"], state["elapsed"]
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])

    def train_step(self, batch):
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
        return loss.item()


def validate(model: LIIF, images: list, scales=(2, 4, 8), crop=240, precision="fp32") -> dict:
    """Mean PSNR-Y on centre crops of held-out training-folder photos (never benchmark images)."""
    was_training = model.training
    engine = Upscaler(model, device=next(model.parameters()).device, precision=precision)
    result = {}
    for s in scales:
        scores = []
        for image in images:
            _, h, w = image.shape
            size = min(crop, h, w) // s * s
            y0, x0 = (h - size) // 2, (w - size) // 2
            hr = image[:, y0 : y0 + size, x0 : x0 + size].float()[None] / 255
            lr = F.interpolate(hr, size=(size // s, size // s), mode="bicubic", antialias=True, align_corners=False)
            out = engine.render(lr.clamp(0, 1), size, size)
            scores.append(psnr_y(_to_uint8(out), _to_uint8(hr), shave=s))
        result[f"val_x{s}"] = float(np.mean(scores))
    model.train(was_training)
    return result


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    return (t[0].permute(1, 2, 0).float().cpu().clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def hardware_description(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def _atomic_save(obj, path: Path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(cfg: TrainConfig, resume: bool = True, max_steps_this_session: int | None = None, show_progress=True) -> Run:
    """Train (or resume) the run `cfg.name`; exports the weights when the planned steps are done."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and cfg.device in ("auto", "cuda") else "gloo"
        dist.init_process_group(backend)
    run = Run(cfg, rank, world)
    run_dir = Path(cfg.runs_dir) / cfg.name
    ckpt_path = run_dir / "last.ckpt"
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
    if resume and ckpt_path.exists():
        run.load_state_dict(torch.load(ckpt_path, map_location=run.device, weights_only=False))
        if rank == 0:
            print(f"resumed {ckpt_path} at step {run.step}")

    paths = list_images(cfg.data)
    train_paths, val_paths = split_holdout(paths, cfg.holdout, cfg.seed)
    t0 = time.perf_counter()
    data_device = run.device if cfg.data_on_device else torch.device("cpu")
    sampler = CropSampler([decode(p, cfg.max_side) for p in train_paths], cfg.lr_size,
                          (cfg.scale_min, cfg.scale_max), cfg.n_queries, device=data_device)
    val_images = [decode(p, cfg.max_side) for p in val_paths]
    if rank == 0:
        print(f"{len(train_paths)} training photos ({sampler.n_pixels / 1e6:.0f} MP) decoded in "
              f"{time.perf_counter() - t0:.1f}s, {len(val_paths)} held out for validation; "
              f"{cfg.encoder} encoder, {count_parameters(run.model) / 1e6:.2f} M parameters, "
              f"{run.device} {'bf16' if run.bf16 else 'fp32'}, {world} process(es)")

    log_path = run_dir / "log.csv"
    log_fields = ["step", "loss", "lr", "elapsed_s", "val_x2", "val_x4", "val_x8"]
    if rank == 0 and not log_path.exists():
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(log_fields)

    last = cfg.steps if max_steps_this_session is None else min(cfg.steps, run.step + max_steps_this_session)
    progress = None
    if rank == 0 and show_progress:
        from tqdm import tqdm

        progress = tqdm(total=cfg.steps, initial=run.step, unit="it", dynamic_ncols=True)
    run.model.train()
    losses = []
    while run.step < last:
        t = time.perf_counter()
        batch = run.my_share(sampler.sample(cfg.batch_size, run.generator))
        loss = run.train_step(batch)
        run.elapsed += time.perf_counter() - t
        losses.append(loss)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{loss:.4f}", lr=f"{learning_rate(cfg, run.step - 1):.2e}")
        row = None
        if run.step % cfg.val_every == 0 or run.step == cfg.steps:
            row = validate(run.model, val_images, precision="bf16" if run.bf16 else "fp32") if rank == 0 else {}
            run.model.train()
            if progress is not None:
                progress.write(f"step {run.step}: " + ", ".join(f"{k} {v:.2f} dB" for k, v in row.items()))
        if rank == 0 and (run.step % 10 == 0 or row is not None):
            with open(log_path, "a", newline="") as f:
                values = {"step": run.step, "loss": f"{np.mean(losses):.5f}", "lr": f"{learning_rate(cfg, run.step - 1):.3e}",
                          "elapsed_s": f"{run.elapsed:.1f}", **{k: f"{v:.3f}" for k, v in (row or {}).items()}}
                csv.DictWriter(f, log_fields).writerow(values)
            losses = []
        if rank == 0 and (run.step % cfg.ckpt_every == 0 or run.step == last):
            _atomic_save(run.state_dict(), ckpt_path)
    if progress is not None:
        progress.close()

    export = Path(cfg.export or f"weights/{cfg.name}.safetensors")
    if rank == 0 and run.step >= cfg.steps:
        info = {
            "training": {
                "steps": run.step, "batch_size": cfg.batch_size, "lr": cfg.lr, "schedule": cfg.schedule,
                "wall_seconds": round(run.elapsed), "hardware": hardware_description(run.device),
                "processes": world, "precision": "bf16" if run.bf16 else "fp32",
                "data": [str(d) for d in cfg.data], "n_train_images": len(train_paths),
            }
        }
        save_weights(run.model, export, extra_metadata=info)
        print(f"exported {export}")
    if world > 1:
        dist.barrier()
    return run
