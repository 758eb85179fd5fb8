"""Pictures for people: pixels enlarged as squares, boxes, captions, grids, and the antialiased shrink.

Small numpy/Pillow functions shared by the lessons, the page and the command line; colour maps are in
`colormaps.py`. Everything takes and returns (H, W, 3) uint8 arrays unless it says otherwise.
"""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

LEVELS = 255.0  # an 8-bit colour runs from 0 to this
MAX_DISPLAY_SIDE = 2048  # the enlarged input is drawn with whole pixels, no larger than this on its long side


def flatten_image(image: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 for display: transparent areas shown over white, greyscale as grey."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"))


def flatten(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """An input's RGB with its alpha, if any, shown over white."""
    if alpha is None:
        return rgb
    a = alpha[..., None].astype(np.float64) / 255
    return np.round(rgb * a + 255 * (1 - a)).astype(np.uint8)


def enlarge_nearest(rgb: np.ndarray, target_side: int, max_side: int = MAX_DISPLAY_SIDE) -> np.ndarray:
    """Blow each pixel up to a whole number of screen pixels, so the long side is about `target_side`."""
    long_side = max(rgb.shape[:2])
    factor = max(1, min(round(target_side / long_side), max_side // long_side))
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def nearest_region(rgb: np.ndarray, box: tuple, size: int) -> np.ndarray:
    """The input's own pixels over `box` (fractional input-pixel units), blown up to size x size."""
    x0, y0, x1, y1 = box
    h, w = rgb.shape[:2]
    centres = (np.arange(size) + 0.5) / size
    cols = np.clip(np.floor(x0 + centres * (x1 - x0)).astype(np.int64), 0, w - 1)
    rows = np.clip(np.floor(y0 + centres * (y1 - y0)).astype(np.int64), 0, h - 1)
    return rgb[rows][:, cols]


def box_around(centre, size, width: float, height: float) -> tuple:
    """The (x0, y0, x1, y1) box of size = (box width, box height) centred on centre = (x, y), moved
    inside a width x height picture where it would stick out (the middle when `centre` is None)."""
    side_w, side_h = size
    cx, cy = centre if centre is not None else (width / 2, height / 2)
    x0 = min(max(float(cx) - side_w / 2, 0.0), width - side_w)
    y0 = min(max(float(cy) - side_h / 2, 0.0), height - side_h)
    return x0, y0, x0 + side_w, y0 + side_h


def draw_box(rgb: np.ndarray, box: tuple) -> np.ndarray:
    """A copy of the image with the magnifier's region outlined (dark and light, visible on any photo)."""
    image = Image.fromarray(rgb).convert("RGB")
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = (round(v) for v in box)
    width = max(1, round(max(image.size) / 256))
    draw.rectangle((x0 - width, y0 - width, x1 + width - 1, y1 + width - 1), outline=(0, 0, 0), width=width)
    draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=(255, 214, 0), width=width)
    return np.asarray(image)


def label(tile: np.ndarray, text: str, right: bool = False, size: int | None = None) -> np.ndarray:
    """The picture with a caption in a bottom corner (the top-left one is under the page's panel label),
    `size` pixels tall (by default a twentieth of the picture, at least 11)."""
    image = Image.fromarray(np.ascontiguousarray(tile)).convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size or max(11, min(tile.shape[:2]) // 20))
    width = draw.textbbox((0, 0), text, font=font)[2]
    bottom_line = draw.textbbox((0, 0), "Ag", font=font)[3]
    x = image.width - width - 6 if right else 6
    y = image.height - bottom_line - 6
    left, top, right_edge, bottom = draw.textbbox((x, y), text, font=font)
    draw.rectangle((left - 4, top - 3, right_edge + 4, bottom + 3), fill=(0, 0, 0))
    draw.text((x, y), text, fill=(255, 255, 255), font=font)
    return np.asarray(image)


def grid_2x2(tiles: list, gap: int = 4) -> np.ndarray:
    """Four square tiles of one size, two a row, on white."""
    size = tiles[0].shape[0]
    out = np.full((2 * size + gap, 2 * size + gap, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, 2)
        out[r * (size + gap) : r * (size + gap) + size, c * (size + gap) : c * (size + gap) + size] = tile
    return out


def side_by_side(*images: np.ndarray, gap: int = 1) -> np.ndarray:
    """Same-height uint8 images in a row, separated by white columns."""
    height = images[0].shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts = []
    for image in images:
        parts += [image, spacer]
    return np.concatenate(parts[:-1], axis=1)


def shrink_tensor(image01: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Antialiased bicubic reduction of (B, C, H, W) in [0, 1]: how the training inputs are made from
    photos (liif/training/data.py applies the same operator as a matrix)."""
    small = F.interpolate(image01, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return small.clamp(0, 1)


def shrink(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """`shrink_tensor` of a uint8 picture, computed in float64 and rounded back to uint8."""
    t = torch.from_numpy(np.array(rgb, dtype=np.float64)).permute(2, 0, 1)[None] / 255
    return (shrink_tensor(t, height, width)[0] * 255).round().byte().permute(1, 2, 0).numpy()
