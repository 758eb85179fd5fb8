"""Y-channel PSNR and SSIM as the protocol defines them."""

import math

import numpy as np
import pytest

from liif.evaluation.metrics import _filter_valid, _gaussian_window, psnr, psnr_y, rgb_to_y, ssim_y


def _grey(value, shape=(32, 32)):
    return np.full((*shape, 3), value, np.uint8)


def _photo_like(seed=0, shape=(48, 40)):
    """A smooth random image with some texture: SSIM on pure noise says little."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    base = 128 + 60 * np.sin(x / 5.0 + seed) * np.cos(y / 7.0)
    image = base[..., None] + rng.normal(0, 8, (*shape, 3))
    return np.clip(image, 0, 255).round().astype(np.uint8)


def test_rgb_to_y_range():
    assert rgb_to_y(_grey(0))[0, 0] == pytest.approx(16.0)
    assert rgb_to_y(_grey(255))[0, 0] == pytest.approx(235.0, abs=0.01)


def test_psnr_identical_is_infinite():
    image = _photo_like()
    assert psnr_y(image, image) == math.inf
    assert psnr(image, image) == math.inf


def test_psnr_of_a_known_error():
    # Grey 100 vs grey 110: Y differs by 10 * (65.738 + 129.057 + 25.064) / 256 everywhere.
    dy = 10 * 219.859 / 256
    assert psnr_y(_grey(110), _grey(100)) == pytest.approx(10 * math.log10(255**2 / dy**2))
    assert psnr(_grey(110), _grey(100)) == pytest.approx(10 * math.log10(255**2 / 100))


def test_shave_ignores_the_border():
    target = _photo_like()
    output = target.copy()
    output[:3] = 0
    output[:, -3:] = 255
    assert psnr_y(output, target, shave=2) < 30
    assert psnr_y(output, target, shave=3) == math.inf
    assert ssim_y(output, target, shave=3) == pytest.approx(1.0)


def test_ssim_identical_is_one():
    image = _photo_like()
    assert ssim_y(image, image) == pytest.approx(1.0, abs=1e-12)


def test_ssim_of_two_flat_images():
    # No variance: SSIM reduces to the luminance term (2 a b + C1) / (a^2 + b^2 + C1).
    a, b = rgb_to_y(_grey(90))[0, 0], rgb_to_y(_grey(140))[0, 0]
    c1 = (0.01 * 255) ** 2
    assert ssim_y(_grey(90), _grey(140)) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))


def test_ssim_decreases_with_noise():
    target = _photo_like()
    rng = np.random.default_rng(3)
    scores = []
    for sigma in (2, 6, 15, 40):
        noisy = np.clip(target + rng.normal(0, sigma, target.shape), 0, 255).round().astype(np.uint8)
        scores.append(ssim_y(noisy, target))
    assert all(s1 > s2 for s1, s2 in zip(scores, scores[1:])), scores
    assert scores[0] < 1.0 and scores[-1] < 0.6


def test_separable_valid_filter_equals_direct_window_sums():
    rng = np.random.default_rng(4)
    image = rng.normal(size=(19, 15))
    window = _gaussian_window()
    assert window.sum() == pytest.approx(1.0) and window.argmax() == 5
    kernel = np.outer(window, window)
    direct = np.array([[(image[i : i + 11, j : j + 11] * kernel).sum() for j in range(15 - 10)] for i in range(19 - 10)])
    assert np.allclose(_filter_valid(image, window), direct)


def test_mismatched_shapes_and_tiny_images_are_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        ssim_y(_grey(1, (20, 20)), _grey(1, (20, 21)))
    with pytest.raises(ValueError, match="smaller than"):
        ssim_y(_grey(1, (20, 20)), _grey(1, (20, 20)), shave=5)
