"""Colour maps for the page's maps, chosen to be readable with colour-blind vision, and their colour bars.

    from liif.render import colormaps
    picture = colormaps.sequential(errors / 32)            # 0 -> black, 1 -> pale yellow
    picture = colormaps.diverging(gain / 16)               # -1 blue, 0 light grey, +1 orange
    bar = colormaps.colour_bar(colormaps.sequential, "0", "32+ levels", width=256)
    shown = colormaps.over_bar(picture, bar)               # the picture with its bar underneath

`sequential` is a dark-to-bright ramp close to matplotlib's "magma": lightness rises monotonically, so it
reads the same in greyscale and under every common colour-vision deficiency. `diverging` runs blue to
orange through a light grey (a ColorBrewer-style PuOr-like ramp without red/green), so "better" and
"worse" stay distinguishable for red-green colour-blind visitors.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SEQUENTIAL_COLOURS = np.array([
    (0, 0, 4), (40, 11, 84), (101, 21, 110), (159, 42, 99), (212, 72, 66), (245, 125, 21), (250, 193, 39),
    (252, 255, 164),
], dtype=np.float64)
DIVERGING_COLOURS = np.array([
    (33, 102, 172), (103, 169, 207), (209, 229, 240), (236, 236, 236), (254, 224, 182), (241, 163, 64),
    (179, 88, 6),
], dtype=np.float64)


def _ramp(values: np.ndarray, colours: np.ndarray) -> np.ndarray:
    position = np.clip(np.nan_to_num(values, nan=0.0), 0, 1) * (len(colours) - 1)
    index = np.minimum(position.astype(np.int64), len(colours) - 2)
    t = (position - index)[..., None]
    return np.round(colours[index] * (1 - t) + colours[index + 1] * t).astype(np.uint8)


def sequential(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) -> (..., 3) uint8 along the dark-to-bright ramp."""
    return _ramp(np.asarray(values, dtype=np.float64), SEQUENTIAL_COLOURS)


def diverging(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (clipped) -> (..., 3) uint8: negative blue, zero light grey, positive orange."""
    return _ramp((np.asarray(values, dtype=np.float64) + 1) / 2, DIVERGING_COLOURS)


def colour_bar(colour_map, low_label: str, high_label: str, width: int = 256, height: int = 14,
               middle_label: str | None = None, diverging_range: bool = False) -> np.ndarray:
    """A horizontal colour bar with its end labels underneath, as an (h, width, 3) uint8 picture.

    `colour_map` is `sequential` or `diverging`; with `diverging_range` the bar spans -1..1.
    """
    t = np.linspace(0, 1, width)
    if diverging_range:
        t = t * 2 - 1
    strip = np.repeat(colour_map(t)[None], height, axis=0)
    font = ImageFont.load_default(size=12)
    text_height = 16
    image = Image.new("RGB", (width, height + text_height + 2), (255, 255, 255))
    image.paste(Image.fromarray(strip), (0, 0))
    draw = ImageDraw.Draw(image)
    draw.text((0, height + 2), low_label, fill=(0, 0, 0), font=font)
    right = draw.textbbox((0, 0), high_label, font=font)[2]
    draw.text((width - right, height + 2), high_label, fill=(0, 0, 0), font=font)
    if middle_label:
        middle = draw.textbbox((0, 0), middle_label, font=font)[2]
        draw.text(((width - middle) // 2, height + 2), middle_label, fill=(0, 0, 0), font=font)
    return np.asarray(image)


def over_bar(picture: np.ndarray, bar: np.ndarray) -> np.ndarray:
    """A picture with its colour bar underneath, on white. The bar (256 px, 12 px text) grows with a large
    picture, so its labels stay readable when the page shrinks the whole to fit."""
    grow = picture.shape[1] / 300
    if grow > 1:
        size = (round(bar.shape[1] * grow), round(bar.shape[0] * grow))
        bar = np.asarray(Image.fromarray(bar).resize(size, Image.Resampling.LANCZOS))
    width = max(picture.shape[1], bar.shape[1])
    out = np.full((picture.shape[0] + 6 + bar.shape[0], width, 3), 255, np.uint8)
    out[: picture.shape[0], : picture.shape[1]] = picture
    out[picture.shape[0] + 6 :, : bar.shape[1]] = bar
    return out
