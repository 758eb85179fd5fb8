"""Training loop in plain PyTorch: `python -m liif train --data DIR [--config configs/x.yaml] [flags]`.

One process, or several under `torchrun` (DistributedDataParallel; gloo on CPU, nccl on CUDA). A run
lives in `runs/<name>/`: `last.ckpt` (model, optimiser, step and every RNG state, so a resumed run is
bit-identical to an uninterrupted one on the same device, and resumes on any other), `log.csv`, and the
exported fp16 weights.

    --init WEIGHTS   start from a weights file with a fresh optimiser and schedule; the export's training
                     record lists every run it continues (`lineage`)
    --minutes M      time box: after a short warm-up the run measures its own step time and fixes `steps`
                     so that it ends, validated and exported, M minutes after it started (timebox.py)

`train` reads top to bottom: set up, resume, load the photos, then step, validate, log and checkpoint
until the planned steps are done, then export.
"""

import csv
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from tqdm import tqdm

from liif.core.degrade import parse_quality_range
from liif.core.model import count_parameters
from liif.core.weights import save_weights
from liif.render.engine import synchronize
from liif.training.adversarial import AdversarialTrainer
from liif.training.config import TrainConfig, learning_rate
from liif.training.data import CropSampler, decode, list_images, split_holdout
from liif.training.full_crops import FullCropSampler, detect_training_faces
from liif.training.timebox import TimeKeeper
from liif.training.trainer import Trainer, atomic_save, hardware_description, load_checkpoint, profile, validate

LOG_FIELDS = ["step", "loss", "lr", "elapsed_s", "val_x2", "val_x4", "val_x8"]
# An adversarial run also logs its other losses and the held-out renders' detail (a share of the photos').
ADVERSARIAL_LOG_FIELDS = LOG_FIELDS + ["adversarial", "critic", "detail_x8"]


def train(cfg: TrainConfig, resume: bool = True, max_steps_this_session: int | None = None, show_progress=True,
          started: float | None = None, profile_steps: int = 0) -> Trainer:
    """Train (or resume) the run `cfg.name`; exports the weights when the planned steps are done.

    `started` (a time.perf_counter() value) is when the time box of `cfg.minutes` began; default now.
    `profile_steps` > 0: after a warm-up, profile that many steps, print the top entries and stop.
    """
    started = time.perf_counter() if started is None else started
    rank, world = _join_processes(cfg)
    run = (AdversarialTrainer if cfg.adversarial else Trainer)(cfg, rank, world)
    run_dir = Path(cfg.runs_dir) / cfg.name
    ckpt_path = run_dir / "last.ckpt"
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
    if resume and ckpt_path.exists():
        run.load_state_dict(load_checkpoint(ckpt_path))
        if rank == 0:
            print(f"resumed {ckpt_path} at step {run.step} of {cfg.steps}")
    sampler, val_images, n_train = _load_photos(cfg, run)
    if profile_steps:
        profile(run, sampler, profile_steps)
        return run

    log = _Log(run_dir / "log.csv", rank, ADVERSARIAL_LOG_FIELDS if cfg.adversarial else LOG_FIELDS)
    keeper = None
    if cfg.minutes > 0 and not run.time_boxed:
        keeper = TimeKeeper(cfg.minutes, started, run.step, run.device)
        cfg.steps = 10**9  # provisional until the keeper plans; the warm-up's learning rates do not depend on it
    session_first = run.step
    last = _session_end(cfg, session_first, max_steps_this_session)
    progress = None
    if rank == 0 and show_progress:
        progress = tqdm(total=None if keeper else cfg.steps, initial=run.step, unit="it", dynamic_ncols=True)
    run.model.train()
    session_start = time.perf_counter()
    while run.step < last:
        t = time.perf_counter()
        log.add_loss(run.train_step(run.my_share(sampler.sample(cfg.batch_size, run.generator))))
        run.elapsed += time.perf_counter() - t
        if progress is not None:
            progress.update(1)
        if keeper is not None and keeper.planned is None:
            measured = keeper.measured(run.step)
            if measured is not None:
                _plan_time_box(run, keeper, measured, val_images, ckpt_path, progress)
                last = _session_end(cfg, session_first, max_steps_this_session)
        elif keeper is not None and world == 1 and run.step % 10 == 0 and run.step < cfg.steps:
            shorter = keeper.shorter_plan(run.step, cfg)  # slower than measured: still end on time
            if shorter is not None:
                cfg.steps, last = shorter, min(last, shorter)
                if progress is not None:
                    progress.total = cfg.steps

        pause_start = time.perf_counter()
        row = None
        if run.step % cfg.val_every == 0 or run.step == cfg.steps:
            row = _validate(run, val_images)
            if progress is not None:
                progress.write(f"step {run.step}: " + ", ".join(
                    f"{k} {v:.2f} dB" if k.startswith("val_") else f"{k} {v:.2f}" for k, v in row.items()))
        if rank == 0 and (run.step % 10 == 0 or row is not None):
            log.write(run, row, progress)
        if rank == 0 and (run.step % cfg.ckpt_every == 0 or run.step == last):
            atomic_save(run.state_dict(), ckpt_path)
        if keeper is not None and (row is not None or run.step % cfg.ckpt_every == 0):
            keeper.pause(time.perf_counter() - pause_start)
    if progress is not None:
        progress.close()
    synchronize(run.device)
    seconds, steps = time.perf_counter() - session_start, run.step - session_first
    if rank == 0 and steps > 0:
        print(f"{steps} steps in {seconds:.1f} s: {steps / seconds:.2f} steps/s including validation and checkpoints")
    if rank == 0 and run.step >= cfg.steps:
        _export(run, n_train, started)
    if world > 1:
        dist.barrier()
    return run


# -- the pieces of `train`, in the order it uses them ------------------------------------------------


def _join_processes(cfg: TrainConfig) -> tuple:
    """(rank, world size) under torchrun (its environment), joining the process group; (0, 1) alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and cfg.device in ("auto", "cuda") else "gloo"
        dist.init_process_group(backend)
    return rank, world


def _load_photos(cfg: TrainConfig, run: Trainer) -> tuple:
    """(crop sampler over the training photos, held-out photos, how many trained on), decoded once."""
    train_paths, val_paths = split_holdout(list_images(cfg.data), cfg.holdout, cfg.seed)
    t0 = time.perf_counter()
    data_device = run.device if cfg.data_on_device else torch.device("cpu")
    images = [decode(p, cfg.max_side) for p in train_paths]
    if cfg.adversarial:
        sampler = _full_crop_sampler(cfg, train_paths, images)
    else:
        sampler = CropSampler(images, cfg.lr_size, (cfg.scale_min, cfg.scale_max), cfg.n_queries, device=data_device,
                              jpeg_quality=parse_quality_range(cfg.jpeg_quality), jpeg_clean_share=cfg.jpeg_clean_share)
    val_images = [decode(p, cfg.max_side) for p in val_paths]
    if run.rank == 0:
        n_pixels = sum(im.shape[1] * im.shape[2] for im in images)
        print(f"{len(train_paths)} training photos ({n_pixels / 1e6:.0f} MP) decoded in "
              f"{time.perf_counter() - t0:.1f}s, {len(val_paths)} held out for validation; "
              f"{cfg.encoder} encoder, {count_parameters(run.model) / 1e6:.2f} M parameters, "
              f"{run.device} {'bf16' if run.bf16 else 'fp32'}, {run.world} process(es)")
    return sampler, val_images, len(train_paths)


def _full_crop_sampler(cfg: TrainConfig, paths: list, images: list) -> FullCropSampler:
    """Whole crops for the critic; with `face_share`, faces found once and kept in the run's folder."""
    faces = None
    if cfg.face_share > 0:
        only = None
        if cfg.faces_from:
            facts = json.loads(Path(cfg.faces_from).read_text())
            only = {entry["file"] for entry in facts.get("faces", {}).get("files", [])}
        faces = detect_training_faces(paths, images, Path(cfg.runs_dir) / cfg.name / "faces.json", only)
        print(f"faces: {sum(map(len, faces))} in {sum(1 for f in faces if f)} training photos; "
              f"{cfg.face_share:.0%} of crops framed on one")
    return FullCropSampler(images, faces, cfg.crop_size, (cfg.scale_min, cfg.scale_max), cfg.face_share,
                           jpeg_quality=parse_quality_range(cfg.jpeg_quality), jpeg_clean_share=cfg.jpeg_clean_share)


def _session_end(cfg: TrainConfig, session_first: int, max_steps_this_session: int | None) -> int:
    return cfg.steps if max_steps_this_session is None else min(cfg.steps, session_first + max_steps_this_session)


def _validate(run: Trainer, val_images: list) -> dict:
    """Held-out PSNR on rank 0 ({} on the others); the model goes back to training mode."""
    row = (validate(run.exported, val_images, precision="bf16" if run.bf16 else "fp32", detail=run.cfg.adversarial)
           if run.rank == 0 else {})
    run.model.train()
    return row


def _plan_time_box(run: Trainer, keeper: TimeKeeper, measured: tuple, val_images: list, ckpt_path: Path,
                   progress) -> None:
    """Enough steps are timed: time one validation and one checkpoint too, then fix cfg.steps (the same
    on every rank) and save the plan with the checkpoint, so a resumed run keeps it."""
    cfg, (seconds_per_step, measured_steps) = run.cfg, measured
    t_val = time.perf_counter()
    _validate(run, val_images)
    val_seconds = time.perf_counter() - t_val
    t_ckpt = time.perf_counter()
    if run.rank == 0:
        atomic_save(run.state_dict(), ckpt_path)
    ckpt_seconds = time.perf_counter() - t_ckpt
    steps = keeper.plan(run.step, seconds_per_step, val_seconds, ckpt_seconds, cfg)
    if run.world > 1:
        steps_tensor = torch.tensor([steps], device=run.device if dist.get_backend() == "nccl" else "cpu")
        dist.broadcast(steps_tensor, 0)
        steps = int(steps_tensor.item())
    cfg.steps = steps
    run.time_boxed = True
    if run.rank != 0:
        return
    atomic_save(run.state_dict(), ckpt_path)
    message = (f"time box: {1 / seconds_per_step:.2f} steps/s ({cfg.batch_size / seconds_per_step:.0f} "
               f"samples/s) measured over {measured_steps} steps; validation {val_seconds:.1f} s, "
               f"checkpoint {ckpt_seconds:.1f} s; planned {cfg.steps} steps to end within "
               f"{cfg.minutes:g} min of the start")
    (progress.write if progress is not None else print)(message)
    if progress is not None:
        progress.total = cfg.steps
        progress.refresh()


class _Log:
    """runs/<name>/log.csv: the mean loss every 10 steps, and the validation scores when there are some."""

    def __init__(self, path: Path, rank: int, fields: list = LOG_FIELDS):
        self.path, self.fields = path, fields
        self.loss_sum, self.loss_count = None, 0
        if rank == 0 and not path.exists():
            with open(path, "w", newline="") as f:
                csv.writer(f).writerow(fields)

    def add_loss(self, loss: torch.Tensor) -> None:
        self.loss_sum = loss.clone() if self.loss_sum is None else self.loss_sum + loss  # no wait for the GPU
        self.loss_count += 1

    def write(self, run: Trainer, row: dict | None, progress) -> None:
        wait = time.perf_counter()
        # The one wait for the GPU, every 10 steps. An adversarial step returns (L1, adversarial, critic).
        means = (self.loss_sum / max(1, self.loss_count)).reshape(-1).tolist()
        mean_loss = means[0]
        run.elapsed += time.perf_counter() - wait  # the steps' GPU time that the host did not wait for
        self.loss_sum, self.loss_count = None, 0
        lr = learning_rate(run.cfg, run.step - 1)
        if progress is not None:
            progress.set_postfix(loss=f"{mean_loss:.4f}", lr=f"{lr:.2e}")
        with open(self.path, "a", newline="") as f:
            values = {"step": run.step, "loss": f"{mean_loss:.5f}", "lr": f"{lr:.3e}", "elapsed_s": f"{run.elapsed:.1f}",
                      **{k: f"{v:.3f}" for k, v in (row or {}).items()}}
            if len(means) == 3:
                values.update(adversarial=f"{means[1]:.4f}", critic=f"{means[2]:.4f}")
            csv.DictWriter(f, self.fields).writerow(values)


def _export(run: Trainer, n_train: int, started: float) -> None:
    """The fp16 weights with the training record (and the lineage of the runs this one continued)."""
    cfg = run.cfg
    export = Path(cfg.export or f"weights/{cfg.name}.safetensors")
    record = {
        "steps": run.step, "batch_size": cfg.batch_size, "lr": cfg.lr, "schedule": cfg.schedule,
        "wall_seconds": round(run.elapsed), "hardware": hardware_description(run.device),
        "processes": run.world, "precision": "bf16" if run.bf16 else "fp32",
        "data": [str(d) for d in cfg.data], "n_train_images": n_train,
    }
    if cfg.init:
        record["init"] = str(cfg.init)
    if cfg.jpeg_quality:
        record["jpeg_inputs"] = {"quality": cfg.jpeg_quality, "clean_share": cfg.jpeg_clean_share}
    if run.lineage:
        record["lineage"] = run.lineage
    if cfg.adversarial:
        record["adversarial"] = {
            "crop_size": cfg.crop_size, "scales": [cfg.scale_min, cfg.scale_max], "face_share": cfg.face_share,
            "pixel_weight": cfg.pixel_weight, "lowpass_weight": cfg.lowpass_weight,
            "adversarial_weight": cfg.adversarial_weight, "feature_weight": cfg.feature_weight,
            "critic": f"PatchCritic width {cfg.critic_width}, spectral norm", "critic_lr": cfg.critic_lr,
            "ema_decay": cfg.ema_decay,
        }
    save_weights(run.exported, export, extra_metadata={"training": record})
    print(f"exported {export} ({time.perf_counter() - started:.0f} s after the start)")
