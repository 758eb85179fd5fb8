"""Training: the loss goes down, an interrupted run resumes bit-exactly, and DDP ranks stay in sync."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from liif.data import CropSampler, decode, list_images, split_holdout
from liif.train import Run, TrainConfig, learning_rate, train
from liif.weights import load_model, read_metadata

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Six small smooth 'photos' with edges: learnable structure, not noise."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:128]
    for i in range(6):
        angle = rng.uniform(0, np.pi)
        stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) / rng.uniform(2, 6))
        rgb = np.stack([stripes * rng.uniform(0.3, 1) for _ in range(3)], -1)
        rgb = ((rgb - rgb.min()) / (np.ptp(rgb) + 1e-9) * 255).astype(np.uint8)
        Image.fromarray(rgb).save(folder / f"photo_{i}.png")
    return folder


def tiny_config(folder, tmp_path, **overrides) -> TrainConfig:
    values = dict(data=[str(folder)], name="tiny", steps=6, batch_size=4, lr_size=16, n_queries=64,
                  holdout=1, val_every=1000, ckpt_every=1000, runs_dir=str(tmp_path / "runs"),
                  export=str(tmp_path / "tiny.safetensors"), device="cpu", precision="fp32", warmup_steps=2)
    values.update(overrides)
    return TrainConfig(**values)


def test_loss_goes_down(photo_folder, tmp_path):
    cfg = tiny_config(photo_folder, tmp_path, lr=1e-3, schedule="constant")
    run = Run(cfg)
    images = [decode(p) for p in list_images(cfg.data)]
    sampler = CropSampler(images, cfg.lr_size, (1.0, 4.0), cfg.n_queries)
    fixed = sampler.sample(8, torch.Generator().manual_seed(123))

    def held_loss():
        with torch.no_grad():
            pred = run.model(*fixed[:3])
        return torch.nn.functional.l1_loss(pred, fixed[3]).item()

    before = held_loss()
    for _ in range(40):
        run.train_step(run.my_share(sampler.sample(cfg.batch_size, run.generator)))
    assert held_loss() < 0.8 * before


def test_interrupted_run_resumes_exactly(photo_folder, tmp_path):
    whole = train(tiny_config(photo_folder, tmp_path / "a"), show_progress=False)
    train(tiny_config(photo_folder, tmp_path / "b"), max_steps_this_session=3, show_progress=False)
    resumed = train(tiny_config(photo_folder, tmp_path / "b"), show_progress=False)
    assert resumed.step == whole.step == 6
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    for a, b in zip(whole.optimizer.state_dict()["state"].values(), resumed.optimizer.state_dict()["state"].values()):
        assert torch.equal(a["exp_avg"], b["exp_avg"])


def test_export_is_fp16_with_config_and_training_facts(photo_folder, tmp_path):
    cfg = tiny_config(photo_folder, tmp_path, steps=2)
    train(cfg, show_progress=False)
    meta = read_metadata(cfg.export)
    assert meta["residual"] == "bicubic" and '"edsr-baseline"' in meta["config"]
    assert '"steps": 2' in meta["training"]
    model = load_model(cfg.export)
    assert model.config.residual == "bicubic"
    log = (Path(cfg.runs_dir) / "tiny" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,loss,lr") and "val_x4" in log[0]
    assert float(log[-1].split(",")[5]) > 5  # the final validation PSNR at x4 was measured


def test_schedules():
    cfg = TrainConfig(steps=1000, lr=4e-4, warmup_steps=50, final_lr_ratio=0.02)
    assert learning_rate(cfg, 0) == pytest.approx(8e-6)
    assert learning_rate(cfg, 49) == pytest.approx(4e-4)
    assert learning_rate(cfg, 999) == pytest.approx(8e-6, rel=0.05)
    paper = TrainConfig(steps=1000, lr=1e-4, schedule="paper")
    assert [learning_rate(paper, s) for s in (0, 199, 200, 999)] == pytest.approx([1e-4, 1e-4, 5e-5, 6.25e-6])


def test_holdout_is_fixed_and_disjoint(photo_folder):
    paths = list_images([photo_folder])
    train_a, val_a = split_holdout(paths, 2)
    train_b, val_b = split_holdout(paths, 2)
    assert val_a == val_b and not set(val_a) & set(train_a) and len(train_a) + len(val_a) == len(paths)


def test_config_file_and_unknown_options(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("encoder: rdn\nlr: 2.0e-4\n")
    cfg = TrainConfig.from_sources(path, lr=3e-4, steps=None)
    assert cfg.encoder == "rdn" and cfg.lr == 3e-4 and cfg.steps == TrainConfig().steps
    with pytest.raises(ValueError, match="unknown training options"):
        TrainConfig.from_sources(None, learning_rate=1)


def test_two_process_ddp_keeps_ranks_identical(photo_folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(REPO / "tests" / "ddp_worker.py"), str(photo_folder), str(tmp_path / "runs"), str(out)]
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rank0, rank1 = torch.load(out / "rank0.pt"), torch.load(out / "rank1.pt")
    initial = torch.manual_seed(0) and None
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    # and they did train: weights moved away from the shared initialisation
    from liif.model import LIIF, LIIFConfig

    torch.manual_seed(0)
    fresh = LIIF(LIIFConfig()).state_dict()
    assert not torch.equal(fresh["imnet.layers.0.weight"], rank0["imnet.layers.0.weight"])
