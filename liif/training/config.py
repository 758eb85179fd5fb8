"""What a training run is asked to do (`TrainConfig`, from flags and configs/*.yaml), and its learning rate."""

import math
from dataclasses import dataclass, field, fields

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
    # JPEG inputs: "30-95" saves each crop's LR input as a JPEG of a random quality in that range (a
    # share `jpeg_clean_share` left clean), as a photo found on the web would be. "" trains on clean inputs.
    jpeg_quality: str = ""
    jpeg_clean_share: float = 0.2
    # Adversarial training (`--adversarial`, adversarial.py): whole `crop_size` crops rendered on their full
    # grid, shrunk by one scale per batch from [scale_min, scale_max], judged by a critic. The renderer's loss
    # is pixel_weight * L1 + lowpass_weight * L1 of both pictures box-shrunk by 4 (the content the input
    # fixes) + adversarial_weight * the critic's verdict + feature_weight * feature matching.
    adversarial: bool = False
    crop_size: int = 96
    face_share: float = 0.0  # share of crops framed on a detected face
    faces_from: str = ""  # data facts JSON (python -m liif data-facts): look for faces only in the files it lists
    pixel_weight: float = 0.1
    lowpass_weight: float = 1.0
    adversarial_weight: float = 0.01
    feature_weight: float = 0.3
    critic_lr: float = 1e-4
    critic_width: int = 64
    ema_decay: float = 0.0  # > 0: export an exponential moving average of the renderer's weights

    def __post_init__(self):
        if isinstance(self.compile, bool):  # `compile: true` in older configs and checkpoints
            self.compile = "default" if self.compile else "off"
        if self.compile not in COMPILE_MODES:
            raise ValueError(f"unknown compile mode {self.compile!r}: use one of {', '.join(COMPILE_MODES)}")
        from liif.core.degrade import parse_quality_range

        parse_quality_range(self.jpeg_quality)  # a bad range fails here, before the photos are decoded
        if not 0 <= self.jpeg_clean_share <= 1:
            raise ValueError(f"jpeg_clean_share {self.jpeg_clean_share} is not a share between 0 and 1")

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


def trained_scales(training: dict | None) -> tuple:
    """(lowest, highest) scale a model's training crops were shrunk by, from its weights file's training
    record (`LoadedModel.training`) when it says, else this recipe's defaults, which every shipped model used."""
    training = training or {}
    if "scale_min" in training and "scale_max" in training:
        return float(training["scale_min"]), float(training["scale_max"])
    return TrainConfig.scale_min, TrainConfig.scale_max
