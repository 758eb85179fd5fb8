"""Training loop in plain PyTorch: `python -m liif train --data DIR [--config configs/x.yaml] [flags]`.

One process, or several under `torchrun` (DistributedDataParallel; gloo on CPU, nccl on CUDA). A run
lives in `runs/<name>/`: `last.ckpt` (model, optimiser, step and every RNG state, so a resumed run is
bit-identical to an uninterrupted one on the same device, and resumes on any other), `log.csv`, and the
exported fp16 weights.

    --init WEIGHTS   start from a weights file with a fresh optimiser and schedule; the export's training
                     record lists every run it continues (`lineage`)
    --minutes M      time box: after a short warm-up the run measures its own step time and fixes `steps`
                     so that it ends, validated and exported, M minutes after it started
"""

import csv
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

from liif.core.model import LIIF, LIIFConfig, count_parameters
from liif.core.weights import load_weights, save_weights
from liif.evaluation.metrics import psnr_y
from liif.render.engine import Upscaler, cpu_has_fast_bf16, pick_device
from liif.render.imageio import to_uint8
from liif.render.pictures import shrink_tensor
from liif.training.data import CropSampler, decode, list_images, split_holdout


COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")


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
    init: str = ""  # start from these weights (ours or the authors' .pth) with a fresh optimiser and schedule
    minutes: float = 0.0  # >0: plan `steps` so the run ends, validated and exported, this many minutes after it starts
    # torch.compile the model: "off", "default" (Triton fuses the elementwise work), "reduce-overhead"
    # (also replays each step as CUDA graphs: one launch instead of ~1,500), "max-autotune". See docs/training.md.
    compile: str = "off"

    def __post_init__(self):
        if isinstance(self.compile, bool):  # `compile: true` in older configs and checkpoints
            self.compile = "default" if self.compile else "off"
        if self.compile not in COMPILE_MODES:
            raise ValueError(f"unknown compile mode {self.compile!r}: use one of {', '.join(COMPILE_MODES)}")

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
            lr = shrink_tensor(hr, size // s, size // s)
            out = engine.render(lr, size, size)
            scores.append(psnr_y(to_uint8(out), to_uint8(hr), shave=s))
        result[f"val_x{s}"] = float(np.mean(scores))
    model.train(was_training)
    return result


def hardware_description(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def load_checkpoint(path: Path) -> dict:
    """A checkpoint read onto the CPU, whichever device wrote it; `Run.load_state_dict` moves what must move."""
    return torch.load(path, map_location="cpu", weights_only=False)


def _atomic_save(obj, path: Path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


@dataclass
class TimeBox:
    """Plans a run's length from its own measured speed so that it ends `minutes` after `start`.

    Steps are timed from `skip` steps after the session's first (compilation, kernel selection and the
    first allocations are over by then) for `measure` steps, or fewer if they take more than
    `measure_share` of the budget; then `plan` fixes the total. The reserve covers the validations and
    checkpoints still to come, the final validation and the export, from what one of each took here.
    """

    minutes: float
    start: float
    skip: int = 5
    measure: int = 20
    measure_share: float = 0.1
    margin: float = 0.05  # of the whole budget, for jitter

    def plan(self, step: int, seconds_per_step: float, val_seconds: float, ckpt_seconds: float, cfg) -> int:
        left = self.start + self.minutes * 60 - time.perf_counter()
        left -= val_seconds + 2 * ckpt_seconds + self.margin * self.minutes * 60  # final validation, export
        per_step = seconds_per_step + val_seconds / cfg.val_every + ckpt_seconds / cfg.ckpt_every
        return step + max(1, int(left / per_step))

    def measured_enough(self, steps: int, seconds: float) -> bool:
        return steps >= self.measure or (steps >= 3 and seconds >= self.measure_share * self.minutes * 60)


def train(cfg: TrainConfig, resume: bool = True, max_steps_this_session: int | None = None, show_progress=True,
          started: float | None = None, profile_steps: int = 0) -> Run:
    """Train (or resume) the run `cfg.name`; exports the weights when the planned steps are done.

    `started` (a time.perf_counter() value) is when the time box of `cfg.minutes` began; default now.
    `profile_steps` > 0: after a warm-up, profile that many steps, print the top entries and stop.
    """
    started = time.perf_counter() if started is None else started
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
        run.load_state_dict(load_checkpoint(ckpt_path))
        if rank == 0:
            print(f"resumed {ckpt_path} at step {run.step} of {cfg.steps}")

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
    if profile_steps:
        profile(run, sampler, profile_steps)
        return run

    log_path = run_dir / "log.csv"
    log_fields = ["step", "loss", "lr", "elapsed_s", "val_x2", "val_x4", "val_x8"]
    if rank == 0 and not log_path.exists():
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(log_fields)

    time_box = TimeBox(cfg.minutes, started) if cfg.minutes > 0 and not run.time_boxed else None
    if time_box is not None:
        cfg.steps = 10**9  # provisional; the warm-up's learning rates do not depend on it (see TimeBox)
    first_step = run.step
    last = cfg.steps if max_steps_this_session is None else min(cfg.steps, run.step + max_steps_this_session)
    progress = None
    if rank == 0 and show_progress:
        from tqdm import tqdm

        progress = tqdm(total=None if time_box else cfg.steps, initial=run.step, unit="it", dynamic_ncols=True)
    run.model.train()
    loss_sum, loss_count = torch.zeros((), device=run.device), 0
    measure_start = None
    guard = None  # after planning: what a re-plan needs, to keep a slowed-down run on time
    paused = 0.0
    session_start, session_first = time.perf_counter(), run.step
    while run.step < last:
        t = time.perf_counter()
        batch = run.my_share(sampler.sample(cfg.batch_size, run.generator))
        loss_sum += run.train_step(batch)
        loss_count += 1
        run.elapsed += time.perf_counter() - t
        if progress is not None:
            progress.update(1)
        if time_box is not None and run.step == first_step + time_box.skip:
            _synchronize(run.device)
            measure_start = time.perf_counter()
        measured_steps = run.step - first_step - time_box.skip if time_box is not None else 0
        if measured_steps > 0 and time_box.measured_enough(measured_steps, time.perf_counter() - measure_start):
            _synchronize(run.device)
            seconds_per_step = (time.perf_counter() - measure_start) / measured_steps
            t_val = time.perf_counter()
            row = validate(run.model, val_images, precision="bf16" if run.bf16 else "fp32") if rank == 0 else {}
            run.model.train()
            val_seconds = time.perf_counter() - t_val
            t_ckpt = time.perf_counter()
            if rank == 0:
                _atomic_save(run.state_dict(), ckpt_path)
            ckpt_seconds = time.perf_counter() - t_ckpt
            steps = time_box.plan(run.step, seconds_per_step, val_seconds, ckpt_seconds, cfg)
            if world > 1:
                steps_tensor = torch.tensor([steps], device=run.device if dist.get_backend() == "nccl" else "cpu")
                dist.broadcast(steps_tensor, 0)
                steps = int(steps_tensor.item())
            cfg.steps = steps
            last = cfg.steps if max_steps_this_session is None else min(cfg.steps, session_first + max_steps_this_session)
            guard = (time_box, val_seconds, ckpt_seconds, run.step, time.perf_counter())
            paused = 0.0  # seconds in validations and checkpoints since the plan
            time_box = None
            run.time_boxed = True
            if rank == 0:
                _atomic_save(run.state_dict(), ckpt_path)
                message = (f"time box: {1 / seconds_per_step:.2f} steps/s ({cfg.batch_size / seconds_per_step:.0f} "
                           f"samples/s) measured over {measured_steps} steps; validation {val_seconds:.1f} s, "
                           f"checkpoint {ckpt_seconds:.1f} s; planned {cfg.steps} steps to end within "
                           f"{cfg.minutes:g} min of the start")
                (progress.write if progress is not None else print)(message)
                if progress is not None:
                    progress.total = cfg.steps
                    progress.refresh()
        if guard is not None and world == 1 and run.step % 10 == 0 and run.step < cfg.steps:
            # Slower than measured (a busy machine, throttling)? Shorten the plan so the run still ends on
            # time; the schedule then completes a little faster. Never lengthened.
            box, val_seconds, ckpt_seconds, since_step, since = guard
            # Step time since the plan was made; validations and checkpoints are counted by `plan` itself.
            recent = (time.perf_counter() - since - paused) / (run.step - since_step)
            shorter = box.plan(run.step, recent, val_seconds, ckpt_seconds, cfg)
            if shorter < cfg.steps:
                cfg.steps, last = shorter, min(last, shorter)
                if progress is not None:
                    progress.total = cfg.steps
        row = None
        pause_start = time.perf_counter()
        if run.step % cfg.val_every == 0 or run.step == cfg.steps:
            row = validate(run.model, val_images, precision="bf16" if run.bf16 else "fp32") if rank == 0 else {}
            run.model.train()
            if progress is not None:
                progress.write(f"step {run.step}: " + ", ".join(f"{k} {v:.2f} dB" for k, v in row.items()))
        if rank == 0 and (run.step % 10 == 0 or row is not None):
            wait = time.perf_counter()
            mean_loss = (loss_sum / max(1, loss_count)).item()  # the one wait for the GPU, every 10 steps
            run.elapsed += time.perf_counter() - wait  # the steps' GPU time that the host did not wait for
            loss_sum.zero_()
            loss_count = 0
            if progress is not None:
                progress.set_postfix(loss=f"{mean_loss:.4f}", lr=f"{learning_rate(cfg, run.step - 1):.2e}")
            with open(log_path, "a", newline="") as f:
                values = {"step": run.step, "loss": f"{mean_loss:.5f}", "lr": f"{learning_rate(cfg, run.step - 1):.3e}",
                          "elapsed_s": f"{run.elapsed:.1f}", **{k: f"{v:.3f}" for k, v in (row or {}).items()}}
                csv.DictWriter(f, log_fields).writerow(values)
        if rank == 0 and (run.step % cfg.ckpt_every == 0 or run.step == last):
            _atomic_save(run.state_dict(), ckpt_path)
        if row is not None or run.step % cfg.ckpt_every == 0:
            paused += time.perf_counter() - pause_start
    if progress is not None:
        progress.close()
    _synchronize(run.device)
    session_seconds = time.perf_counter() - session_start
    if rank == 0 and run.step > session_first:
        print(f"{run.step - session_first} steps in {session_seconds:.1f} s: "
              f"{(run.step - session_first) / session_seconds:.2f} steps/s including validation and checkpoints")

    export = Path(cfg.export or f"weights/{cfg.name}.safetensors")
    if rank == 0 and run.step >= cfg.steps:
        record = {
            "steps": run.step, "batch_size": cfg.batch_size, "lr": cfg.lr, "schedule": cfg.schedule,
            "wall_seconds": round(run.elapsed), "hardware": hardware_description(run.device),
            "processes": world, "precision": "bf16" if run.bf16 else "fp32",
            "data": [str(d) for d in cfg.data], "n_train_images": len(train_paths),
        }
        if cfg.init:
            record["init"] = str(cfg.init)
        if run.lineage:
            record["lineage"] = run.lineage
        save_weights(run.model, export, extra_metadata={"training": record})
        print(f"exported {export} ({time.perf_counter() - started:.0f} s after the start)")
    if world > 1:
        dist.barrier()
    return run


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def profile(run: Run, sampler: CropSampler, steps: int, warmup: int = 5) -> None:
    """Profile `steps` training steps after `warmup` (torch.profiler) and print the top entries."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    for _ in range(warmup):
        run.train_step(sampler.sample(run.cfg.batch_size, run.generator))
    _synchronize(run.device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if run.device.type == "cuda" else [])
    start = time.perf_counter()
    with torch_profile(activities=activities) as prof:
        for _ in range(steps):
            run.train_step(sampler.sample(run.cfg.batch_size, run.generator))
        _synchronize(run.device)
    seconds = (time.perf_counter() - start) / steps
    sort = "self_cuda_time_total" if run.device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=15, max_name_column_width=60))
    print(f"profiled {steps} steps: {seconds * 1000:.1f} ms per step (with the profiler's overhead), "
          f"{run.cfg.batch_size / seconds:.0f} samples/s")
