"""Adversarial training: whole crops, the critic, a bit-exact resume, and what the export says it is."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from liif.core.weights import load_model, read_metadata
from liif.evaluation.metrics import detail_levels
from liif.training.adversarial import AdversarialTrainer
from liif.training.critic import PatchCritic, critic_loss, renderer_adversarial_loss
from liif.training.full_crops import FullCropSampler
from liif.training.loop import train
from tests.test_train import photo_folder, tiny_config  # noqa: F401  (the fixture is used by name)


def gan_config(folder, tmp_path, **overrides):
    values = dict(adversarial=True, crop_size=32, scale_min=2.0, scale_max=4.0, batch_size=2, critic_width=8,
                  ema_decay=0.9, lr=1e-4)
    values.update(overrides)
    return tiny_config(folder, tmp_path, **values)


def test_full_crops_are_whole_pictures_of_one_scale():
    rng = np.random.default_rng(0)
    images = [torch.from_numpy(rng.integers(0, 256, (3, 80, 100), dtype=np.uint8)) for _ in range(3)]
    sampler = FullCropSampler(images, None, crop=40, scale_range=(2.0, 8.0))
    lr, coord, cell, gt = sampler.sample(4, torch.Generator().manual_seed(1))
    side = lr.shape[-1]
    assert lr.shape == (4, 3, side, side) and 5 <= side <= 20
    assert coord.shape == (4, 40 * 40, 2) and gt.shape == (4, 40 * 40, 3)
    assert torch.allclose(cell, torch.full_like(cell, 2 / 40))
    # The queries are the crop's pixel centres, row by row: the render is a picture.
    assert torch.allclose(coord[0, 0], torch.tensor([-1 + 1 / 40, -1 + 1 / 40]))
    assert torch.allclose(coord[0, 1], torch.tensor([-1 + 1 / 40, -1 + 3 / 40]))
    assert gt.min() >= -1 and gt.max() <= 1


def test_face_crops_hold_the_face():
    image = torch.zeros(3, 300, 400, dtype=torch.uint8)
    image[:, 100:160, 250:310] = 255  # the "face": a white 60x60 square
    sampler = FullCropSampler([image], [[(250, 100, 60, 60)]], crop=64, scale_range=(4.0, 4.0), face_share=1.0)
    _, _, _, gt = sampler.sample(6, torch.Generator().manual_seed(0))
    white = (gt > 0.9).all(-1).float().mean(1)  # share of each crop that is the face
    assert bool((white > 0.1).all()), white


def test_the_critic_scores_patches_and_its_losses_pull_apart():
    critic = PatchCritic(width=8)
    logits, features = critic(torch.zeros(2, 3, 32, 32))
    assert logits.shape == (2, 1, 4, 4) and len(features) == 4
    real, fake = torch.full((2, 1, 4, 4), 3.0), torch.full((2, 1, 4, 4), -3.0)
    # A critic that tells them apart has a small loss; the renderer's loss is then large, and the reverse.
    assert critic_loss(real, fake) < 0.1 < renderer_adversarial_loss(real, fake)
    assert renderer_adversarial_loss(fake, real) < 0.1 < critic_loss(fake, real)


def test_interrupted_adversarial_run_resumes_exactly(photo_folder, tmp_path):  # noqa: F811
    whole = train(gan_config(photo_folder, tmp_path / "a"), show_progress=False)
    train(gan_config(photo_folder, tmp_path / "b"), max_steps_this_session=3, show_progress=False)
    resumed = train(gan_config(photo_folder, tmp_path / "b"), show_progress=False)
    assert isinstance(resumed, AdversarialTrainer) and resumed.step == whole.step == 6
    for module in ("model", "critic", "average"):
        a, b = getattr(whole, module).state_dict(), getattr(resumed, module).state_dict()
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (module, key)
    # and it trained: the renderer moved away from where it started, and so did the critic
    fresh = AdversarialTrainer(gan_config(photo_folder, tmp_path / "c"))
    assert not torch.equal(fresh.model.imnet.layers[0].weight, whole.model.imnet.layers[0].weight)


def test_the_export_is_the_average_and_says_it_is_adversarial(photo_folder, tmp_path):  # noqa: F811
    cfg = gan_config(photo_folder, tmp_path, steps=3)
    run = train(cfg, show_progress=False)
    record = json.loads(read_metadata(cfg.export)["training"])
    assert record["adversarial"]["crop_size"] == 32 and record["adversarial"]["ema_decay"] == 0.9
    exported = load_model(cfg.export)
    average = run.average.module.state_dict()
    for key, value in exported.state_dict().items():
        assert torch.allclose(value, average[key].half().float(), atol=0), key
    log = (tmp_path / "runs" / "tiny" / "log.csv").read_text().splitlines()
    assert log[0].split(",")[-3:] == ["adversarial", "critic", "detail_x8"]
    assert float(log[-1].split(",")[-1]) > 0  # the held-out renders' detail was measured


def test_detail_levels_rank_sharp_above_soft():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)
    soft = np.asarray(Image.fromarray(sharp).resize((8, 8), Image.BOX).resize((64, 64), Image.BICUBIC))
    flat = np.full((64, 64, 3), 128, np.uint8)
    assert detail_levels(flat) == 0
    assert detail_levels(sharp) > 5 * detail_levels(soft)
    with pytest.raises(ValueError):
        detail_levels(np.zeros((3, 3, 3), np.uint8))
