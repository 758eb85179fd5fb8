"""MATLAB-style imresize: the kernel, coordinate mapping, antialiasing and replicated edges.

(tests/test_eval.py checks it against MATLAB's own output: the benchmark's LR_bicubic images.)"""

import numpy as np
import pytest

from liif.evaluation.resize import cubic, imresize


def test_cubic_kernel_values():
    # Keys' kernel with a = -0.5: interpolating (1 at 0, 0 at the other integers), zero beyond 2.
    assert cubic(np.array([0.0, 1.0, 2.0, 2.5, -3.0])).tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert cubic(np.array([0.5, 1.5, -0.5])).tolist() == [0.5625, -0.0625, 0.5625]


def test_upscale_matches_hand_computed_weights_with_replicated_edges():
    # x2: output pixel 1 samples u = 1/2 + 0.5 * (1 - 1/2) = 0.75 (1-based). Taps at -1, 0, 1, 2 are at
    # distances 1.75, 0.75, 0.25, 1.25 -> weights -0.0234375, 0.2265625, 0.8671875, -0.0703125.
    # Positions 0 and -1 read pixel 1 (the edge is repeated), so out[0] = 1.0703125 a - 0.0703125 b.
    # Output pixel 2 (u = 1.25): taps 0, 1, 2, 3 weigh -0.0703125, 0.8671875, 0.2265625, -0.0234375.
    a, b, c, d = 10.0, 64.0, 128.0, 192.0
    out = imresize(np.array([[a], [b], [c], [d]]), output_shape=(8, 1))[:, 0]
    assert out[0] == pytest.approx(1.0703125 * a - 0.0703125 * b)
    assert out[1] == pytest.approx((0.8671875 - 0.0703125) * a + 0.2265625 * b - 0.0234375 * c)
    assert out[7] == pytest.approx(1.0703125 * d - 0.0703125 * c)
    # (mirroring the edge instead would give 1.09375 a - 0.09375 b for out[0])


def test_downscale_matches_hand_computed_antialiased_weights():
    # x1/2: u = 2 * 1 + 0.5 * (1 - 2) = 1.5; the kernel is 0.5 * cubic(0.5 x), 8 wide, so the taps at
    # distances 0.5, 1.5, 2.5, 3.5 weigh 0.43359375, 0.11328125, -0.03515625, -0.01171875 on each side.
    # Positions 0, -1, -2 all read pixel 1.
    signal = np.array([3.0, 50.0, 7.0, 90.0, 20.0, 60.0, 11.0, 40.0])
    weights = {0: 0.43359375 + 0.11328125 - 0.03515625 - 0.01171875, 1: 0.43359375, 2: 0.11328125,
               3: -0.03515625, 4: -0.01171875}
    out = imresize(signal[:, None], output_shape=(4, 1))[:, 0]
    assert out[0] == pytest.approx(sum(w * signal[i] for i, w in weights.items()))


def test_constant_image_stays_constant():
    image = np.full((23, 31, 3), 77, np.uint8)
    for kwargs in ({"scale": 0.37}, {"scale": 2.5}, {"scale": 1 / 8}, {"output_shape": (13, 40)}):
        out = imresize(image, **kwargs)
        assert out.dtype == np.uint8 and (out == 77).all(), kwargs
    assert np.allclose(imresize(image.astype(np.float64), scale=0.3), 77.0)


def test_output_shapes():
    image = np.zeros((10, 7, 3), np.uint8)
    assert imresize(image, scale=0.5).shape == (5, 4, 3)  # MATLAB: ceil(scale * size)
    assert imresize(image, scale=3).shape == (30, 21, 3)
    assert imresize(image, scale=(2, 0.5)).shape == (20, 4, 3)
    assert imresize(image, output_shape=(13, 9)).shape == (13, 9, 3)
    assert imresize(np.zeros((10, 7)), scale=2).shape == (20, 14)
    with pytest.raises(ValueError):
        imresize(image)
    with pytest.raises(ValueError):
        imresize(image, scale=2, output_shape=(20, 14))


def test_linear_ramp_is_reproduced_away_from_the_edges():
    # A cubic with a = -0.5 reproduces linear functions; only the mirrored edges bend them.
    ramp = np.arange(20, dtype=np.float64)[:, None]
    out = imresize(ramp, output_shape=(60, 1))[:, 0]
    u = np.arange(1, 61) / 3 + 0.5 * (1 - 1 / 3) - 1  # MATLAB's mapping, 0-based input position
    assert np.allclose(out[6:-6], u[6:-6])


def test_flipping_commutes_with_resizing():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (18, 12, 3))
    # the output grid covers the input exactly (out = in * scale), so it must be centred on it
    for shape in ((6, 4), (45, 30), (27, 5)):
        flipped_first = imresize(image[::-1, ::-1], output_shape=shape)
        assert np.allclose(flipped_first, imresize(image, output_shape=shape)[::-1, ::-1])


def test_antialiasing_removes_what_plain_bicubic_aliases():
    # Stripes one pixel wide: at x1/3 plain bicubic samples every third pixel and keeps full-contrast
    # stripes; the widened kernel averages them to grey.
    stripes = np.tile(np.array([0.0, 255.0]), 30)[None, :].repeat(6, axis=0)
    plain = imresize(stripes, scale=1 / 3, antialias=False)
    smoothed = imresize(stripes, scale=1 / 3)
    assert plain.std() > 100
    assert smoothed[:, 3:-3].std() < 5 and abs(smoothed.mean() - 127.5) < 5


def test_uint8_result_is_rounded_float_result():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (21, 18, 3), dtype=np.uint8)
    out = imresize(image, scale=0.4)
    reference = np.clip(imresize(image.astype(np.float64), scale=0.4), 0, 255)
    assert out.dtype == np.uint8
    # uint8 is rounded after each axis, as MATLAB does, so it may differ from the float path by one level
    assert np.abs(out.astype(np.float64) - reference).max() <= 1.0
