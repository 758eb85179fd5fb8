"""The one font helper (`font`, `wrap`: DejaVu Sans from assets/fonts/) and the one drawer of every
downloadable sheet (the check's, its JPEG variant's, "what it has seen"'s, the answers'):

    sheet([Panel(tiny, "input 25x18", pixels=True), Panel(liif, "LIIF", ["29.1 dB"])], height=256,
          caption="x4: PSNR-Y against the real photo ...", credit="LIIF Zoom, model rdn")
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
LABEL_SIZE, TEXT_SIZE = 15, 13  # the labels (bold) and the numbers, caption and credit on a sheet, in pixels
GAP = 6  # between two panels


@functools.lru_cache(maxsize=8)
def font(size: int, bold: bool = False):
    path = FONTS_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:  # installed without the repository's assets
        return ImageFont.load_default(size=size)


def wrap(text: str, font, width: float) -> list:
    """`text` in lines of at most `width` pixels (a word longer than that gets a line of its own)."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line] if line else lines


@dataclass
class Panel:
    picture: np.ndarray  # (h, w, 3) uint8
    label: str
    lines: tuple = ()  # numbers drawn under it, each wrapped to the column
    pixels: bool = False  # an input shown with its pixels as squares: always enlarged by repeating them


def sheet(panels: list, height: int, caption: str = "", credit: str = "", min_column: int = 0) -> Image.Image:
    """The panels side by side, every picture `height` pixels high (the first panel's shape sets the width),
    each centred in a column at least `min_column` wide. A picture is enlarged by repeating its pixels and
    reduced with Lanczos."""
    first_h, first_w = panels[0].picture.shape[:2]
    width = max(1, round(first_w * height / first_h))
    column = max(width, min_column)
    total = len(panels) * (column + GAP) - GAP
    label_font, text_font = font(LABEL_SIZE, bold=True), font(TEXT_SIZE)
    labels = [wrap(panel.label, label_font, column) for panel in panels]
    numbers = [[part for line in panel.lines for part in wrap(line, text_font, column)] for panel in panels]
    caption_lines = wrap(caption, text_font, total - 4)
    label_line, text_line = LABEL_SIZE + 5, TEXT_SIZE + 5
    top = 6 + max(map(len, labels)) * label_line
    bottom = 6 + max(map(len, numbers)) * text_line
    canvas = Image.new("RGB", (total, top + height + bottom + 6 + (len(caption_lines) + 1) * text_line), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (panel, label, lines) in enumerate(zip(panels, labels, numbers)):
        x = i * (column + GAP)
        picture = Image.fromarray(np.ascontiguousarray(panel.picture))
        enlarged = panel.pixels or picture.height < height
        resample = Image.Resampling.NEAREST if enlarged else Image.Resampling.LANCZOS
        canvas.paste(picture.resize((width, height), resample), (x + (column - width) // 2, top))
        for j, text in enumerate(label):
            draw.text((x, 4 + j * label_line), text, fill="black", font=label_font)
        for j, text in enumerate(lines):
            draw.text((x, top + height + 4 + j * text_line), text, fill=(40, 40, 40), font=text_font)
    y = top + height + bottom + 4
    for j, text in enumerate(caption_lines + [credit]):
        draw.text((2, y + j * text_line), text, fill="black" if j < len(caption_lines) else (90, 90, 90), font=text_font)
    return canvas
