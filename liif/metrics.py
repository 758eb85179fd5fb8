"""Image quality under the LIIF paper's protocol (see PROTOCOL.md): Y channel, border shaved, 8-bit."""

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
