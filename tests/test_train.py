"""Training: the loss goes down, an interrupted run resumes bit-exactly, and DDP ranks stay in sync."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from liif.core.model import LIIF, LIIFConfig
from liif.core.weights import load_model, read_metadata, save_weights
from liif.training.config import TrainConfig, learning_rate
from liif.training.data import CropSampler, decode, list_images, split_holdout
from liif.training.loop import train
from liif.training.trainer import Trainer

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


@pytest.mark.slow
def test_loss_goes_down(photo_folder, tmp_path):
    cfg = tiny_config(photo_folder, tmp_path, lr=1e-3, schedule="constant")
    run = Trainer(cfg)
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


def test_compile_mode_reaches_torch_compile(photo_folder, tmp_path, monkeypatch):
    """`--compile MODE` is handed to torch.compile as its mode; `compile: true` (older configs and
    checkpoints) means the default mode; a misspelt mode is refused before any work."""
    modes = []
    monkeypatch.setattr(torch, "compile", lambda module, mode=None: modes.append(mode) or module)
    Trainer(tiny_config(photo_folder, tmp_path))
    Trainer(tiny_config(photo_folder, tmp_path, compile="reduce-overhead"))
    Trainer(tiny_config(photo_folder, tmp_path, compile=True))
    assert modes == ["reduce-overhead", "default"]
    with pytest.raises(ValueError, match="unknown compile mode 'reduce_overhead'"):
        TrainConfig(compile="reduce_overhead")


@pytest.mark.slow
def test_two_process_ddp_keeps_ranks_identical(photo_folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(REPO / "tests" / "ddp_worker.py"), str(photo_folder), str(tmp_path / "runs"), str(out)]
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rank0, rank1 = torch.load(out / "rank0.pt"), torch.load(out / "rank1.pt")
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    # and they did train: weights moved away from the shared initialisation
    torch.manual_seed(0)
    fresh = LIIF(LIIFConfig()).state_dict()
    assert not torch.equal(fresh["imnet.layers.0.weight"], rank0["imnet.layers.0.weight"])


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_checkpoint_written_on_a_gpu_resumes_on_the_cpu(photo_folder, tmp_path, monkeypatch):
    """A checkpoint whose tensors are tagged as CUDA storages (as a GPU run writes them) loads on a machine
    without a GPU, and the resumed run ends exactly where an uninterrupted run does: the RNG states go
    back to the CPU, the weights and Adam's moments to the run's device."""
    import torch.serialization

    whole = train(tiny_config(photo_folder, tmp_path / "a"), show_progress=False)
    real_tag = torch.serialization.location_tag
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        train(tiny_config(photo_folder, tmp_path / "b"), max_steps_this_session=3, show_progress=False)
    assert torch.serialization.location_tag is real_tag
    ckpt = tmp_path / "b" / "runs" / "tiny" / "last.ckpt"
    with pytest.raises(RuntimeError):  # what a plain torch.load does with it on a CPU-only machine
        torch.load(ckpt, weights_only=False)
    resumed = train(tiny_config(photo_folder, tmp_path / "b"), show_progress=False)
    assert resumed.step == 6 and _same_weights(whole.model, resumed.model)


def test_init_from_our_weights_keeps_the_lineage(photo_folder, tmp_path):
    first = tiny_config(photo_folder, tmp_path / "first", steps=3)
    train(first, show_progress=False)
    second = tiny_config(photo_folder, tmp_path / "second", steps=2, init=first.export, encoder="rdn", residual="none")
    run = Trainer(second)
    assert second.encoder == "edsr-baseline" and second.residual == "bicubic"  # taken from the file
    assert _same_weights(run.model, load_model(first.export))
    assert run.optimizer.state_dict()["state"] == {} and run.step == 0  # fresh optimiser and schedule
    train(second, show_progress=False)
    record = json.loads(read_metadata(second.export)["training"])
    assert record["steps"] == 2 and record["init"] == first.export
    assert [r["steps"] for r in record["lineage"]] == [3]
    third = tiny_config(photo_folder, tmp_path / "third", steps=1, init=second.export)
    train(third, show_progress=False)
    record = json.loads(read_metadata(third.export)["training"])
    assert [r["steps"] for r in record["lineage"]] == [3, 2] and "lineage" not in record["lineage"][1]


def test_init_from_an_authors_checkpoint(photo_folder, tmp_path):
    torch.manual_seed(3)
    theirs = LIIF(LIIFConfig(encoder="edsr-baseline", residual="none"))
    path = tmp_path / "edsr-baseline-liif.pth"
    torch.save({"model": {"name": "liif", "args": {"encoder_spec": {"name": "edsr-baseline", "args": {}},
                "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [256] * 4}}},
                "sd": theirs.state_dict()}}, path)
    cfg = tiny_config(photo_folder, tmp_path, steps=1, init=str(path))
    run = train(cfg, show_progress=False)
    assert cfg.residual == "none" and run.model.config.residual == "none"
    record = json.loads(read_metadata(cfg.export)["training"])
    assert record["lineage"] == [{"source": "the LIIF authors' checkpoint edsr-baseline-liif.pth"}]


def test_init_refuses_a_different_architecture(photo_folder, tmp_path):
    other = LIIF(LIIFConfig(encoder="edsr-baseline", hidden=[32, 32]))
    path = save_weights(other, tmp_path / "small.safetensors")
    with pytest.raises(ValueError, match="small.safetensors holds"):
        Trainer(tiny_config(photo_folder, tmp_path, init=str(path)))


@pytest.mark.slow
def test_time_box_ends_on_time_with_the_schedule_completed(photo_folder, tmp_path, one_torch_thread):
    minutes = 0.5
    cfg = tiny_config(photo_folder, tmp_path, minutes=minutes, steps=3, val_every=50, ckpt_every=50,
                      final_lr_ratio=0.02, lr_size=12, n_queries=32, batch_size=2)
    start = time.perf_counter()
    run = train(cfg, show_progress=False, started=start)
    seconds = time.perf_counter() - start
    assert seconds <= minutes * 60 * 1.15, f"took {seconds:.1f} s for a {minutes * 60:.0f} s box"
    assert seconds >= minutes * 60 * 0.5, f"ended after {seconds:.1f} s: most of the box unused"
    assert cfg.steps > 20 and run.step == cfg.steps  # planned from the measured speed, and all done
    assert learning_rate(cfg, run.step - 1) == pytest.approx(cfg.lr * cfg.final_lr_ratio, rel=0.01)
    assert json.loads(read_metadata(cfg.export)["training"])["steps"] == cfg.steps
    state = torch.load(Path(cfg.runs_dir) / "tiny" / "last.ckpt", weights_only=False)
    assert state["time_boxed"] and state["planned_steps"] == cfg.steps


def test_batched_sampler_matches_the_per_crop_recipe(photo_folder):
    """Each crop of a batch is the plain recipe: crop, flips and transpose, antialiased bicubic to
    lr_size (torch's own), and distinct query pixels of that crop at their pixel centres."""
    images = [decode(p) for p in list_images([photo_folder])]
    sampler = CropSampler(images, lr_size=16, scale_range=(1.0, 4.0), n_queries=64)
    plan = sampler.plan(12, torch.Generator().manual_seed(5))
    lr, coord, cell, gt = sampler.make_batch(plan)
    assert plan.flips.any(0).all() and (~plan.flips).any(0).all()  # every flip both taken and not
    for b in range(12):
        size, y0, x0 = (int(t[b]) for t in (plan.size, plan.y0, plan.x0))
        crop = images[int(plan.picks[b])][:, y0 : y0 + size, x0 : x0 + size].float() / 255
        flip_x, flip_y, transpose = plan.flips[b].tolist()
        crop = crop.flip(-1) if flip_x else crop
        crop = crop.flip(-2) if flip_y else crop
        crop = crop.transpose(-2, -1) if transpose else crop
        expected = torch.nn.functional.interpolate(crop[None], size=(16, 16), mode="bicubic", antialias=True,
                                                   align_corners=False)[0].clamp(0, 1)
        assert torch.allclose(lr[b], expected * 2 - 1, atol=1e-5)
        rows = ((coord[b, :, 0] + 1) * size - 1) / 2
        cols = ((coord[b, :, 1] + 1) * size - 1) / 2
        assert torch.allclose(rows, rows.round(), atol=1e-4) and torch.allclose(cols, cols.round(), atol=1e-4)
        r, c = rows.round().long(), cols.round().long()
        assert len(set((r * size + c).tolist())) == 64  # distinct pixels
        assert torch.allclose(gt[b], crop[:, r, c].t() * 2 - 1)
        assert torch.allclose(cell[b], torch.full((64, 2), 2 / size))


def test_jpeg_inputs_degrade_only_the_input_and_are_the_same_for_the_same_seed(photo_folder):
    """With --jpeg-quality the LR input is what Pillow's JPEG of the drawn quality gives back, the share of
    clean crops is left exactly as the clean recipe makes it, and queries, cells and targets are untouched."""
    from liif.core.degrade import jpeg_roundtrip

    images = [decode(p) for p in list_images([photo_folder])]
    clean = CropSampler(images, lr_size=16, scale_range=(1.0, 4.0), n_queries=64)
    jpeg = CropSampler(images, lr_size=16, scale_range=(1.0, 4.0), n_queries=64, jpeg_quality=(30, 95),
                       jpeg_clean_share=0.3)
    plan = jpeg.plan(24, torch.Generator().manual_seed(7))
    again = jpeg.plan(24, torch.Generator().manual_seed(7))
    assert torch.equal(plan.jpeg_quality, again.jpeg_quality)
    q = plan.jpeg_quality
    assert ((q == 0) | ((q >= 30) & (q <= 95))).all() and (q == 0).any() and (q > 0).any()
    # Without JPEG the same generator draws the same crops: the choices before the qualities are unchanged.
    plain = clean.plan(24, torch.Generator().manual_seed(7))
    assert plain.jpeg_quality is None and torch.equal(plain.picks, plan.picks) and plain.seed == plan.seed

    lr, coord, cell, gt = jpeg.make_batch(plan)
    lr_clean, coord_clean, cell_clean, gt_clean = clean.make_batch(plain)
    assert torch.equal(coord, coord_clean) and torch.equal(cell, cell_clean) and torch.equal(gt, gt_clean)
    assert torch.equal(jpeg.make_batch(again)[0], lr)
    for b in range(24):
        if q[b] == 0:
            assert torch.equal(lr[b], lr_clean[b])
            continue
        pixels = ((lr_clean[b] + 1) / 2 * 255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        expected = torch.from_numpy(jpeg_roundtrip(pixels, int(q[b]))).permute(2, 0, 1).float() / 255
        assert torch.allclose(lr[b], expected * 2 - 1, atol=1e-6)
        assert not torch.allclose(lr[b], lr_clean[b], atol=1 / 255)  # compression did change the input


def test_a_bad_jpeg_quality_range_is_refused_before_any_photo_is_decoded():
    from liif.training.config import TrainConfig

    for bad in ("95-30", "0-50", "30-100", "high"):
        with pytest.raises(ValueError, match="JPEG quality"):
            TrainConfig(data=["nowhere"], jpeg_quality=bad)
    assert TrainConfig(jpeg_quality="30-95").jpeg_quality == "30-95"
