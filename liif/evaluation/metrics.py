"""Image quality under the LIIF paper's protocol (docs/evaluation-protocol.md): Y channel, border shaved, 8-bit."""

import numpy as np


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB image on 0..255 (float), as MATLAB's rgb2ycbcr computes Y."""
    image = image.astype(np.float64)
    return 16.0 + (65.738 * image[..., 0] + 129.057 * image[..., 1] + 25.064 * image[..., 2]) / 256.0


def _shave(y: np.ndarray, shave: int) -> np.ndarray:
    return y[shave:-shave, shave:-shave] if shave > 0 else y


def psnr_y(output: np.ndarray, target: np.ndarray, shave: int = 0) -> float:
    """PSNR in dB between two uint8 RGB (H, W, 3) images on the Y channel, `shave` pixels cut per border."""
    if output.shape != target.shape:
        raise ValueError(f"shapes differ: {output.shape} vs {target.shape}")
    diff = _shave(rgb_to_y(output), shave) - _shave(rgb_to_y(target), shave)
    mse = float(np.mean(diff**2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def psnr(output: np.ndarray, target: np.ndarray) -> float:
    """Plain PSNR on all channels of two uint8 images (used for the consistency check)."""
    mse = float(np.mean((output.astype(np.float64) - target.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """2-D filtering by the separable window `outer(window, window)`, only where it fits inside."""
    from numpy.lib.stride_tricks import sliding_window_view

    rows = sliding_window_view(image, window.size, axis=0) @ window
    return sliding_window_view(rows, window.size, axis=1) @ window


def ssim_y(output: np.ndarray, target: np.ndarray, shave: int = 0) -> float:
    """SSIM (Wang et al. 2004) between two uint8 RGB images on the Y channel, `shave` pixels cut per
    border: 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, float64, valid filtering,
    mean of the SSIM map. The same definition as the usual SR evaluation code."""
    if output.shape != target.shape:
        raise ValueError(f"shapes differ: {output.shape} vs {target.shape}")
    x = _shave(rgb_to_y(output), shave)
    y = _shave(rgb_to_y(target), shave)
    window = _gaussian_window()
    if min(x.shape) < window.size:
        raise ValueError(f"image {x.shape} (after shaving {shave}) is smaller than the {window.size}x{window.size} SSIM window")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_x, mu_y = _filter_valid(x, window), _filter_valid(y, window)
    var_x = _filter_valid(x * x, window) - mu_x**2
    var_y = _filter_valid(y * y, window) - mu_y**2
    cov = _filter_valid(x * y, window) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(ssim_map.mean())


def detail_levels(image: np.ndarray, factor: int = 4) -> float:
    """How much fine detail a uint8 RGB picture holds: the mean |picture - the picture box-shrunk by
    `factor` and bicubic-enlarged back|, in levels (0..255), over all channels.

    What the shrink removes is what a `factor`-times smaller input cannot hold: detail an upscaler had to
    invent. A soft (L1-trained) render scores low, a real photo higher, a sharp "new photo" render near
    the real photo. Pictures are cropped to a multiple of `factor` first.
    """
    from PIL import Image

    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    if h == 0 or w == 0:
        raise ValueError(f"a {image.shape[1]}x{image.shape[0]} picture is smaller than {factor} pixels a side")
    picture = image[:h, :w].astype(np.float64)
    small = picture.reshape(h // factor, factor, w // factor, factor, -1).mean(axis=(1, 3))
    back = np.stack([np.asarray(Image.fromarray(small[..., c].astype(np.float32), mode="F").resize((w, h), Image.BICUBIC))
                     for c in range(small.shape[-1])], -1)
    return float(np.abs(picture - back).mean())
