"""The pictures of a probe (liif/lessons/probe.py): the input's pixels around the point with the grid points
and their weights, the profile along the row as three plots, and the variants side by side.

    grid_picture(p, cell), profile_picture(p.profile, width), variants_picture(p.variants, side)
"""

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from liif.lessons.probe_results import LEVELS, Probe, Profile

PICTURE_MIN_WIDTH = 560  # room for the legend under a picture of fewer pixels
LABEL_SIZE = 15  # font size of every label drawn, in pixels
FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
# The profile's plots, one a channel: its name and its line's colour.
CHANNELS = (("R", (200, 30, 30)), ("G", (20, 140, 40)), ("B", (30, 70, 210)))


def _font(size: int = LABEL_SIZE, bold: bool = False):
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:  # installed without the repository's assets
        return ImageFont.load_default(size=size)


def _text_box(draw, xy, text, font, fill=(255, 255, 255), background=(0, 0, 0), anchor="la", width=None):
    """Text on a dark box; moved sideways to stay inside `width` pixels when given."""
    left, top, right, bottom = draw.textbbox(xy, text, font=font, anchor=anchor)
    if width is not None:
        shift = max(0, 4 - left) - max(0, right + 4 - width)
        xy = (xy[0] + shift, xy[1])
        left, top, right, bottom = draw.textbbox(xy, text, font=font, anchor=anchor)
    draw.rectangle((left - 3, top - 2, right + 3, bottom + 2), fill=background)
    draw.text(xy, text, fill=fill, font=font, anchor=anchor)


def grid_picture(p: Probe, cell: int) -> Image.Image:
    """The input's pixels around the point, each `cell` screen pixels wide, with the grid points (each dot's
    area grows with its weight), their weights, and the query point with its cell: Probe.picture()."""
    rows, cols = p.around.shape[:2]
    ax, ay = p.around_origin
    legend_height = 2 * (LABEL_SIZE + 10) + 8
    enlarged = np.repeat(np.repeat(p.around, cell, axis=0), cell, axis=1)
    image = Image.new("RGB", (max(cols * cell, PICTURE_MIN_WIDTH), rows * cell + legend_height), (255, 255, 255))
    image.paste(Image.fromarray(enlarged), (0, 0))
    draw = ImageDraw.Draw(image)
    font, bold = _font(), _font(bold=True)
    for i in range(1, cols):
        draw.line((i * cell, 0, i * cell, rows * cell), fill=(128, 128, 128), width=1)
    for i in range(1, rows):
        draw.line((0, i * cell, cols * cell, i * cell), fill=(128, 128, 128), width=1)

    def screen(x_px, y_px):
        return (x_px - ax) * cell, (y_px - ay) * cell

    qx, qy = screen(*p.coord_px)
    for point, _, _ in p.distinct_points:
        gx, gy = screen(point[1] + 0.5, point[0] + 0.5)
        draw.line((qx, qy, gx, gy), fill=(0, 0, 0), width=3)
        draw.line((qx, qy, gx, gy), fill=(255, 255, 255), width=1)
    for point, count, weight in p.distinct_points:
        gx, gy = screen(point[1] + 0.5, point[0] + 0.5)
        radius = 5 + 0.2 * cell * math.sqrt(max(weight, 0.0))  # the dot's area grows with the weight
        draw.ellipse((gx - radius, gy - radius, gx + radius, gy + radius), fill=(255, 214, 0), outline=(0, 0, 0),
                     width=2)
        text = f"{weight:.2f}" + (f" ({count} shifts)" if count > 1 else "")
        below = gy + radius + 4 if gy < rows * cell - 2 * LABEL_SIZE - radius - 8 else gy - radius - 4
        _text_box(draw, (gx, below), text, bold, anchor="ma" if below > gy else "md", width=cols * cell)
    cw, ch = p.cell_px[0] * cell, p.cell_px[1] * cell
    draw.rectangle((qx - cw / 2, qy - ch / 2, qx + cw / 2, qy + ch / 2), outline=(0, 0, 0), width=3)
    draw.rectangle((qx - cw / 2, qy - ch / 2, qx + cw / 2, qy + ch / 2), outline=(255, 255, 255), width=1)
    draw.ellipse((qx - 4, qy - 4, qx + 4, qy + 4), fill=(230, 0, 60), outline=(255, 255, 255))
    top = rows * cell + 6
    lines = (f"output pixel ({p.x}, {p.y}) → input point ({p.coord_px[0]:.3f}, {p.coord_px[1]:.3f})",
             "yellow: the grid points used, sized by weight; box: the cell")
    for k, line in enumerate(lines):
        draw.text((6, top + k * (LABEL_SIZE + 10)), line, fill=(0, 0, 0), font=font)
    return image


def profile_picture(prof: Profile, width: int) -> Image.Image:
    """LIIF, the model's bicubic and the input's own pixels along the row, one plot per channel."""
    font = _font()
    panel, left, right, top, gap = 130, 44, 12, 2 * (LABEL_SIZE + 10), 10
    bottom = LABEL_SIZE + 14
    height = top + 3 * panel + 2 * gap + bottom
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    x0 = prof.x_px[0] - 0.5 / prof.steps
    x1 = prof.x_px[-1] + 0.5 / prof.steps

    def sx(v):
        return left + (v - x0) / (x1 - x0) * (width - left - right)

    # legend
    lx = left
    for name, style in (("LIIF (thick)", "liif"), ("model's bicubic", "bicubic"), ("input pixels (nearest)", "nearest")):
        if style == "liif":
            draw.line((lx, 12, lx + 24, 12), fill=(0, 0, 0), width=3)
        elif style == "bicubic":
            draw.line((lx, 12, lx + 24, 12), fill=(110, 110, 110), width=1)
        else:
            draw.rectangle((lx, 6, lx + 24, 18), fill=(225, 225, 225))
        draw.text((lx + 30, 12), name, fill=(0, 0, 0), font=font, anchor="lm")
        lx += 40 + draw.textlength(name, font=font)
    draw.text((left, top - 8), f"along output row, {prof.steps} samples per input pixel, all with the output's cell",
              fill=(70, 70, 70), font=font, anchor="ld")
    for k, (name, colour) in enumerate(CHANNELS):
        y_top = top + k * (panel + gap)
        values = np.concatenate([prof.liif[:, k], prof.bicubic[:, k], prof.nearest[:, k]])
        lo, hi = max(0.0, values.min() - 8), min(LEVELS, values.max() + 8)
        if hi - lo < 16:
            mid = (hi + lo) / 2
            lo, hi = max(0.0, mid - 8), min(LEVELS, mid + 8)

        def sy(v, y_top=y_top, lo=lo, hi=hi):
            return y_top + panel - (v - lo) / (hi - lo) * panel

        draw.rectangle((left, y_top, width - right, y_top + panel), outline=(190, 190, 190))
        # the input's own pixels: flat steps, shaded down to the panel's floor
        for i in range(len(prof.x_px)):
            a, b = sx(prof.x_px[i] - 0.5 / prof.steps), sx(prof.x_px[i] + 0.5 / prof.steps)
            draw.rectangle((a, min(sy(prof.nearest[i, k]), y_top + panel - 1), b, y_top + panel - 1),
                           fill=(225, 225, 225))
        for edge in range(math.ceil(x0), math.floor(x1) + 1):
            for yy in range(int(y_top), int(y_top + panel), 6):
                draw.line((sx(edge), yy, sx(edge), yy + 2), fill=(150, 150, 150))
        xs = [sx(v) for v in prof.x_px]
        draw.line(list(zip(xs, [sy(v) for v in prof.bicubic[:, k]])), fill=(110, 110, 110), width=1)
        draw.line(list(zip(xs, [sy(v) for v in prof.liif[:, k]])), fill=colour, width=3)
        px = sx(prof.point_px)
        draw.line((px, y_top, px, y_top + panel), fill=(0, 0, 0), width=1)
        if prof.point_rgb is not None:
            py = sy(prof.point_rgb[k])
            draw.ellipse((px - 4, py - 4, px + 4, py + 4), fill=colour, outline=(0, 0, 0))
        draw.text((left - 6, y_top), f"{hi:.0f}", fill=(70, 70, 70), font=font, anchor="ra")
        draw.text((left - 6, y_top + panel), f"{lo:.0f}", fill=(70, 70, 70), font=font, anchor="rd")
        draw.text((left - 6, y_top + panel / 2), name, fill=colour, font=_font(bold=True), anchor="rm")
    base = top + 3 * panel + 2 * gap + 4
    for edge in range(math.ceil(x0), math.floor(x1) + 1):
        draw.text((sx(edge), base), f"x = {edge}", fill=(0, 0, 0), font=font, anchor="ma")
    return image


def variants_picture(variants: list, side: int) -> Image.Image:
    """Each variant's crop, `side` pixels a side, with its label and how far it is from the one as trained."""
    font = _font()
    label_height = 2 * (LABEL_SIZE + 8)
    gap = 6
    image = Image.new("RGB", (len(variants) * (side + gap) - gap, side + label_height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for k, v in enumerate(variants):
        tile = Image.fromarray(v.image).resize((side, side), Image.Resampling.NEAREST)
        image.paste(tile, (k * (side + gap), label_height))
        below = "as the output has it" if k == 0 else f"{v.mean_abs_levels:.1f} levels off; not retrained"
        draw.text((k * (side + gap), 2), v.label, fill=(0, 0, 0), font=font)
        draw.text((k * (side + gap), LABEL_SIZE + 10), below, fill=(90, 90, 90), font=_font(LABEL_SIZE - 2))
    return image
