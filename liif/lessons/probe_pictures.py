"""The pictures of a probe (liif/lessons/probe.py): the four codes (where they sit on the input's pixels and
on the encoder's feature grid, what each answered and how the answers add up), the profile along the row as
three plots.

    opening_picture(p), grid_picture(p), profile_picture(p.profile)    # PIL images of a Probe's numbers

Every label is drawn LABEL_SIZE pixels tall, none smaller (each picture says so in `info["label_px"]`), on
pictures PICTURE_WIDTH wide: a 390 px phone shows them about 300 px wide, so a label is about 12.5 px there.
Titles are drawn in the pictures (the page shows no label over them) and keep clear of the top-right corner,
where the page puts its full-screen button.
"""

import math

import numpy as np
from PIL import Image, ImageDraw

from liif.render import colormaps, sheet
from liif.render.pictures import LEVELS

# Every probe picture on the page is this many pixels wide: a phone shows it about 300 wide, so its labels
# (LABEL_SIZE) stay at least 11 px there (tests/test_screenshots_experiments.py measures it).
PICTURE_WIDTH = 380
PICTURE_CELL = 95  # grid_picture(): each input pixel drawn this many screen pixels wide (4 of them: 380)
LABEL_SIZE = 16  # font size of every label drawn, in pixels
LINE = LABEL_SIZE + 7  # one line of text
CORNER = 40  # the top-right corner left free of text (the page's full-screen button)
# The profile's plots, one a channel: its name and its line's colour.
CHANNELS = (("R", (200, 30, 30)), ("G", (20, 140, 40)), ("B", (30, 70, 210)))
GREY, DARK = (90, 90, 90), (0, 0, 0)


def _paragraph(draw, x, y, text, font, width, fill=DARK) -> float:
    """Wrapped text from (x, y); returns the y below it."""
    for line in sheet.wrap(text, font, width):
        draw.text((x, y), line, fill=fill, font=font)
        y += LINE
    return y


def _text_box(draw, xy, text, font, fill=(255, 255, 255), background=(0, 0, 0), anchor="la", width=None):
    """Text on a dark box; moved sideways to stay inside `width` pixels when given."""
    left, top, right, bottom = draw.textbbox(xy, text, font=font, anchor=anchor)
    if width is not None:
        shift = max(0, 4 - left) - max(0, right + 4 - width)
        xy = (xy[0] + shift, xy[1])
        left, top, right, bottom = draw.textbbox(xy, text, font=font, anchor=anchor)
    draw.rectangle((left - 3, top - 2, right + 3, bottom + 2), fill=background)
    draw.text(xy, text, fill=fill, font=font, anchor=anchor)


def _text_height(text: str, font, width: float) -> int:
    return len(sheet.wrap(text, font, width)) * LINE


def _stack(panels: list, gap: int = 14) -> Image.Image:
    width = max(panel.width for panel in panels)
    image = Image.new("RGB", (width, sum(panel.height for panel in panels) + gap * (len(panels) - 1)), (255, 255, 255))
    draw, y = ImageDraw.Draw(image), 0
    for k, panel in enumerate(panels):
        if k:
            draw.line((0, y - gap // 2, width, y - gap // 2), fill=(200, 200, 200), width=1)
        image.paste(panel, (0, y))
        y += panel.height + gap
    image.info["label_px"] = LABEL_SIZE
    return image


# -- the four codes ----------------------------------------------------------------------------------


def grid_picture(p, cell: int = PICTURE_CELL, with_pixels: bool = True) -> Image.Image:
    """The four codes: the input's pixels around the point with the grid points (each dot's area grows with
    its weight), their weights and the query point with its cell (left out with `with_pixels=False`, when
    opening_picture() shows them); the same place in the feature grid with the same points (when the probe
    has it); and what each code answered."""
    width = max(p.around.shape[1] * cell, PICTURE_WIDTH)
    panels = [points_panel(p, p.around, cell, width, "1. Your input's pixels", [
        f"Output pixel ({p.x}, {p.y}) is the point ({p.coord_px[0]:.3f}, {p.coord_px[1]:.3f}) in input pixels "
        "(red dot); the box is the output pixel (the cell).",
        "Yellow: the grid points the decoder asks, each dot sized by its weight."], first=True)] if with_pixels else []
    if p.feature_around is not None:
        panels.append(points_panel(p, p.feature_around, cell, width, f"{len(panels) + 1}. The same place in the "
                                   "encoder's feature grid", ["One code per input pixel, coloured as in the "
                                   "explanation's picture of the feature grid (first 3 principal components)."],
                                   first=not panels))
    panels.append(terms_panel(p, width, f"{len(panels) + 1}."))
    return _stack(panels)


def opening_picture(p, cell: int = PICTURE_CELL) -> Image.Image:
    """The photo's pixels around the point, the point and the pixels where the model
    guessed its colour, in words for anyone (grid_picture() has the rest)."""
    width = max(p.around.shape[1] * cell, PICTURE_WIDTH)
    several = len(p.distinct_points) > 1
    return _stack([points_panel(p, p.around, cell, width, "Your photo's pixels around the point", [
        "Red dot: the point; the box around it: the one output pixel.",
        ("Yellow dots: the photo pixels where the model guessed its colour, each with how much its guess counts."
         if several else "Yellow dot: the photo pixel where the model guessed its colour.")], first=True)])


def points_panel(p, pixels: np.ndarray, cell: int, width: int, title: str, notes: list,
                 first: bool = False) -> Image.Image:
    """`pixels` (the input's, or the feature grid's, at p.around_origin) enlarged to `cell` a pixel, with the
    grid points, their weights, the query point and its cell; `title` above and `notes` below."""
    rows, cols = pixels.shape[:2]
    ax, ay = p.around_origin
    font, bold = sheet.font(LABEL_SIZE), sheet.font(LABEL_SIZE, bold=True)
    title_width = width - 12 - (CORNER if first else 0)
    top = 6 + _text_height(title, bold, title_width)
    notes_height = sum(_text_height(note, font, width - 12) for note in notes)
    image = Image.new("RGB", (width, top + rows * cell + 8 + notes_height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    _paragraph(draw, 6, 6, title, bold, title_width)
    image.paste(Image.fromarray(np.repeat(np.repeat(pixels, cell, axis=0), cell, axis=1)), (0, top))
    for i in range(1, cols):
        draw.line((i * cell, top, i * cell, top + rows * cell), fill=(128, 128, 128), width=1)
    for i in range(1, rows):
        draw.line((0, top + i * cell, cols * cell, top + i * cell), fill=(128, 128, 128), width=1)

    def screen(x_px, y_px):
        return (x_px - ax) * cell, top + (y_px - ay) * cell

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
        below = gy + radius + 4 if gy < top + rows * cell - 2 * LABEL_SIZE - radius - 8 else gy - radius - 4
        _text_box(draw, (gx, below), text, bold, anchor="ma" if below > gy else "md", width=cols * cell)
    cw, ch = p.cell_px[0] * cell, p.cell_px[1] * cell
    draw.rectangle((qx - cw / 2, qy - ch / 2, qx + cw / 2, qy + ch / 2), outline=(0, 0, 0), width=3)
    draw.rectangle((qx - cw / 2, qy - ch / 2, qx + cw / 2, qy + ch / 2), outline=(255, 255, 255), width=1)
    draw.ellipse((qx - 4, qy - 4, qx + 4, qy + 4), fill=(230, 0, 60), outline=(255, 255, 255))
    y = top + rows * cell + 6
    for note in notes:
        y = _paragraph(draw, 6, y, note, font, width - 12)
    return image


def terms_panel(p, width: int, number: str = "") -> Image.Image:
    """A table in R, G, B columns: each grid point's answer (on a diverging scale, blue below 0 and orange
    above, when the answers are corrections to bicubic) with its weight, their weighted sum, the model's
    bicubic term, the total and the colour it clamps and rounds to (with a swatch of it)."""
    font, bold = sheet.font(LABEL_SIZE), sheet.font(LABEL_SIZE, bold=True)
    corrections = p.residual == "bicubic"
    title = (f"{number} What the decoder answered for each grid point, in levels of 255" +
             (" (corrections to bicubic)" if corrections else " (colours)")).strip()
    answers = [(f"({n.grid_point[0]}, {n.grid_point[1]})", n.answer, f"{n.weight:.3f}") for n in p.neighbours]
    sums = [("sum", p.weighted_sum, f"{sum(n.weight for n in p.neighbours):.3f}")]
    rest = ([("+ bicubic", p.bicubic_term, "")] if corrections else []) + [("= total", p.total, ""),
                                                                           ("colour", p.rgb, "")]
    rows = answers + sums + rest
    label_w = max(font.getlength(name) for name, _, _ in rows + [("(row, col)", 0, 0)]) + 10
    weight_w = font.getlength("weight") + 10
    cell_w = (width - 12 - label_w - weight_w) / 3
    scale = max(1.0, max(abs(v) for _, row, _ in answers + sums for v in row))
    legend = ((f"Blue: below 0, orange: above, full colour at ±{scale:.1f} levels. " if corrections else "") +
              "sum: Σ weight × answer (the weights add up to 1)" +
              ("; + bicubic: the model's own (grid_sample, a = -0.75)" if corrections else "") +
              "; the total, clamped to 0..255 and rounded, is the colour.")
    top = 6 + _text_height(title, bold, width - 12)
    table_top, row_h = top + LINE, LINE + 6
    table_bottom = table_top + len(rows) * row_h
    image = Image.new("RGB", (width, int(table_bottom + 6 + _text_height(legend, font, width - 12) + 4)),
                      (255, 255, 255))
    draw = ImageDraw.Draw(image)
    _paragraph(draw, 6, 6, title, bold, width - 12)
    x0 = 6 + label_w
    draw.text((6, top), "(row, col)", fill=GREY, font=font)
    for c, (name, colour) in enumerate(CHANNELS):
        draw.text((x0 + (c + 0.5) * cell_w, top), name, fill=colour, font=bold, anchor="ma")
    draw.text((width - 6, top), "weight", fill=GREY, font=font, anchor="ra")
    for r, (name, values, weight) in enumerate(rows):
        y = table_top + r * row_h
        scaled = corrections and r < len(answers) + len(sums)
        if r in (len(answers), len(answers) + len(sums)):
            draw.line((6, y - 3, width - 6, y - 3), fill=DARK, width=1)
        draw.text((6, y + 3), name, fill=DARK, font=bold if r >= len(answers) else font)
        for c, value in enumerate(values):
            fill = tuple(int(v) for v in colormaps.diverging(np.array(value / scale))) if scaled else (245,) * 3
            box = (x0 + c * cell_w + 2, y, x0 + (c + 1) * cell_w - 2, y + LINE + 2)
            draw.rectangle(box, fill=fill)
            text = str(int(value)) if name == "colour" else f"{value:+.2f}" if scaled else f"{value:.2f}"
            ink = (255, 255, 255) if sum(fill) < 3 * 140 else DARK
            draw.text(((box[0] + box[2]) / 2, y + 3), text, fill=ink, font=font, anchor="ma")
        if weight:
            draw.text((width - 6, y + 3), weight, fill=DARK, font=font, anchor="ra")
        elif name == "colour":
            draw.rectangle((width - 6 - weight_w + 10, y, width - 6, y + LINE + 2), fill=tuple(p.rgb), outline=DARK)
    _paragraph(draw, 6, table_bottom + 6, legend, font, width - 12, fill=GREY)
    return image


# -- along the row -----------------------------------------------------------------------------------


def profile_picture(prof, width: int = PICTURE_WIDTH) -> Image.Image:
    """LIIF, the model's bicubic and the input's own pixels along the row, one plot per channel."""
    font, bold = sheet.font(LABEL_SIZE), sheet.font(LABEL_SIZE, bold=True)
    title = "Along the row through the point"
    subtitle = f"{prof.steps} samples per input pixel, each with the output's cell; x in input pixels"
    panel, gap, right = 100, 8, 10
    left = int(font.getlength("255")) + 14
    top = 6 + _text_height(title, bold, width - 12 - CORNER)
    top += _text_height(subtitle, font, width - 12) + 6
    legend = (("LIIF", "liif"), ("the model's bicubic", "bicubic"), ("the input's pixels", "nearest"))
    legend_rows = _legend_rows(legend, font, width - 12)
    axis = top + 3 * panel + 2 * gap + 4
    height = axis + LINE + 6 + len(legend_rows) * LINE + 4
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    y = _paragraph(draw, 6, 6, title, bold, width - 12 - CORNER)
    _paragraph(draw, 6, y, subtitle, font, width - 12, fill=GREY)
    x0 = prof.x_px[0] - 0.5 / prof.steps
    x1 = prof.x_px[-1] + 0.5 / prof.steps

    def sx(v):
        return left + (v - x0) / (x1 - x0) * (width - left - right)

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
        draw.text((left - 6, y_top), f"{hi:.0f}", fill=GREY, font=font, anchor="ra")
        draw.text((left - 6, y_top + panel), f"{lo:.0f}", fill=GREY, font=font, anchor="rd")
        draw.text((left - 6, y_top + panel / 2), name, fill=colour, font=bold, anchor="rm")
    for edge in range(math.ceil(x0), math.floor(x1) + 1):
        text = str(edge)
        half = font.getlength(text) / 2 + 2
        draw.text((min(max(sx(edge), half), width - half), axis), text, fill=DARK, font=font, anchor="ma")
    y = axis + LINE + 6
    for row in legend_rows:
        lx = 6
        for name, style in row:
            mid = y + LABEL_SIZE / 2 + 2
            if style == "liif":
                draw.line((lx, mid, lx + 24, mid), fill=(0, 0, 0), width=3)
            elif style == "bicubic":
                draw.line((lx, mid, lx + 24, mid), fill=(110, 110, 110), width=1)
            else:
                draw.rectangle((lx, mid - 7, lx + 24, mid + 7), fill=(225, 225, 225))
            draw.text((lx + 30, y), name, fill=DARK, font=font)
            lx += 46 + font.getlength(name)
        y += LINE
    image.info["label_px"] = LABEL_SIZE
    return image


def _legend_rows(items, font, width) -> list:
    """The legend's items (each a 24-pixel sample, then its name) in rows of at most `width` pixels."""
    rows, row, used = [], [], 0.0
    for name, style in items:
        need = 46 + font.getlength(name)
        if row and used + need - 16 > width:
            rows.append(row)
            row, used = [], 0.0
        row.append((name, style))
        used += need
    return rows + [row] if row else rows

