"""The words of a probe (liif/lessons/probe.py): sentences generated from one output pixel's numbers, the
table of its neighbours, and what the profile shows.

    plain_sentence(probe)                              # the one sentence a step opens with
    probe_sentences(probe), probe_markdown(probe)      # the method and its numbers; with the table
    profile_sentences(probe.profile)
"""

import numpy as np

from liif.core import fmt
from liif.render.pictures import LEVELS


def plain_sentence(probe) -> str:
    """One sentence for anyone, from the probe's numbers: which of the photo's pixels the colour came from and
    how much the nearest one counted. The method and its numbers are in probe_sentences()."""
    where = f"Pixel ({probe.x}, {probe.y}) of the {fmt.size(*probe.out_size)} picture, colour **{_ints(probe.rgb)}**,"
    resized = "enlargement" if probe.out_size[0] * probe.out_size[1] >= probe.in_size[0] * probe.in_size[1] else "resize"
    base = f"a smooth {resized} of your photo corrected by " if probe.residual == "bicubic" else ""
    points = probe.distinct_points
    if len(points) == 1:
        return f"{where} is {base}the model's guess at the one photo pixel nearest to it (the yellow dot)."
    heaviest = probe.heaviest_point()
    weight = next(wt for p, _, wt in points if p == heaviest)
    most = "the nearest" if heaviest == probe.nearest_point() else "one of them"
    guesses = "a blend of " if not base else ""
    return (f"{where} is {base}{guesses}the model's guesses at the {len(points)} photo pixels nearest to it (the "
            f"yellow dots), {most} counting most ({fmt.percent(weight)}).")


def probe_sentences(probe) -> list:
    """What a Probe's numbers say, in sentences generated from them."""
    (px, py), (cx, cy) = probe.coord_px, probe.cell_px
    w_out, h_out = probe.out_size
    told = "the cell the decoder is told about" if probe.cell_decode else "a cell this model is not told about"
    lines = [f"Output pixel ({probe.x}, {probe.y}) of the {fmt.size(w_out, h_out)} picture is centred at "
             f"({px:.4g}, {py:.4g}) in input pixels: ({probe.coord_model[0]:.5f}, {probe.coord_model[1]:.5f}) "
             f"as (row, column) in the model's [-1, 1] units. It covers {xy_text((cx, cy))} input pixels, {told}."]
    given = "the offset from the code's centre to this point" + (" and the cell" if probe.cell_decode else "")
    points = probe.distinct_points
    if len(probe.neighbours) == 1:
        lines.append(f"This model blends no neighbours (local ensemble off): the one code at grid point "
                     f"{_rc(probe.neighbours[0].grid_point)} answers alone, given its {probe.feature_numbers} "
                     f"feature numbers and {given}.")
    else:
        lines.append(f"The decoder (an MLP) was asked {len(probe.neighbours)} times, once per shifted query of the "
                     f"local ensemble, each time given the {probe.feature_numbers} feature numbers of the latent "
                     f"code the shift landed on and {given}.")
        if len(points) == len(probe.neighbours):
            lines.append("The shifts landed on the grid points " + _listing([_rc(p) for p, _, _ in points]) + ".")
        else:
            where = "corner" if len(points) == 1 else "border"
            landed = _listing([f"{_rc(p)} {_times(count)}" for p, count, _ in points])
            lines.append(f"So close to the {where}, the {len(probe.neighbours)} shifts landed on only "
                         f"{fmt.plural(str(len(points)), 'grid point')}: {landed}; each landing is asked and "
                         "weighted on its own, as the model does.")
        heaviest = probe.heaviest_point()
        weight = next(wt for p, _, wt in points if p == heaviest)
        rule = ("Each answer is weighted by the area of the rectangle between this point and the diagonally "
                "opposite grid point, so the weights sum to 1")
        if len(points) == 1:
            lines.append(f"{rule}, and here all of it, {weight:.3f}, goes to {_rc(heaviest)}.")
        elif heaviest == probe.nearest_point():
            lines.append(f"{rule} and the grid point nearest this point, {_rc(heaviest)}, weighs most: "
                         f"{weight:.3f}.")
        else:
            lines.append(f"{rule}; the largest weight, {weight:.3f}, goes to {_rc(heaviest)}.")
        if probe.bilinear_like():
            lines.append("Added up per grid point, these are exactly bilinear interpolation's weights, "
                         "(1 - |dx|)(1 - |dy|): the ensemble blends the four answers the way bilinear blends "
                         "four pixels.")
    clamped = any(t < 0 or t > LEVELS for t in probe.total)
    how = "clamps to 0..255 and rounds" if clamped else "rounds"
    if probe.residual == "bicubic":
        lines.append(f"This model predicts the difference from bicubic, so its answers are corrections in levels "
                     f"of 255: weighted, they add up to {_signed(probe.weighted_sum)}. The model's own bicubic "
                     f"here (grid_sample, a = -0.75) is {_levels(probe.bicubic_term)}; the total "
                     f"{_levels(probe.total)} {how} to {_ints(probe.rgb)}.")
    else:
        lines.append(f"This model's answers are colours (no bicubic term): their weighted sum "
                     f"{_levels(probe.total)} {how} to {_ints(probe.rgb)}.")
    precision = {"bf16": "in bf16, ", "int8": "its layers after the first in int8, "}.get(probe.precision, "")
    if probe.rendered_rgb == probe.rgb:
        lines.append(f"The engine's render of the whole picture has exactly {_ints(probe.rendered_rgb)} here: the "
                     "sum above is the model, computed by hand.")
    else:
        lines.append(f"The engine's render of the whole picture has {_ints(probe.rendered_rgb)} here, at most "
                     f"{fmt.plural(str(probe.render_gap), 'level')} off: it computes the same "
                     f"function another way ({precision}the decoder's first layer as one convolution), so the "
                     "last level can round the other way.")
    lines.append(f"The page's bicubic picture (Pillow's, a = -0.5) has {_ints(probe.page_bicubic_rgb)} here, "
                 f"{fmt.plural(f'{probe.bicubic_gap:.1f}', 'level')} at most from "
                 "the model's bicubic (a = -0.75): two bicubics, not one.")
    return lines


def probe_markdown(probe) -> str:
    """A Probe's sentences and the table of its neighbours, for the page and `python -m liif probe`."""
    cell_part = ", cell (rows, cols)" if probe.cell_decode else ""
    answer = "correction (R, G, B)" if probe.residual == "bicubic" else "colour (R, G, B)"
    table = [f"| shift | grid point (row, col) | offset to the point (x, y), input px | decoder input: offset "
             f"(rows, cols){cell_part} | {answer} | weight |",
             "| --- | --- | --- | --- | --- | --- |"]
    for n in probe.neighbours:
        table.append(f"| {_shift(n.shift)} | {_rc(n.grid_point)} | ({n.offset_px[0]:+.3f}, {n.offset_px[1]:+.3f}) "
                     f"| {', '.join(f'{v:+.4f}' for v in n.decoder_input)} | {_signed(n.answer)} | "
                     f"{n.weight:.4f} |")
    term = f" + bicubic {_levels(probe.bicubic_term)}" if probe.residual == "bicubic" else ""
    sum_line = (f"**Σ weight × answer** = {_signed(probe.weighted_sum)}{term} = {_levels(probe.total)} → "
                f"**{_ints(probe.rgb)}**; the engine rendered **{_ints(probe.rendered_rgb)}** "
                f"({probe.precision}, {fmt.seconds(probe.seconds)} for this probe"
                + ("" if probe.encoder_reused else f", {fmt.seconds(probe.encoder_seconds)} of it encoding") + ").")
    parts = [" ".join(probe_sentences(probe)), "\n".join(table), sum_line]
    if probe.profile is not None:
        parts.append(" ".join(profile_sentences(probe.profile)))
    return "\n\n".join(parts)


def profile_sentences(prof) -> list:
    """What a Profile shows, from its own numbers."""
    x0, x1 = prof.x_px[0] - 0.5 / prof.steps, prof.x_px[-1] + 0.5 / prof.steps
    lines = [f"Along this output row (input y = {prof.y_px:.3f}), from x = {x0:.3g} to {x1:.3g}, LIIF was "
             f"rendered {prof.steps} times per input pixel, each sample still with the cell of the whole "
             f"output ({xy_text(prof.cell_px)} input pixels): it changes by at most {prof.liif_step:.1f} levels "
             f"from one sample to the next (the model's bicubic by {prof.bicubic_step:.1f})."]
    if prof.nearest_step < 1:
        lines.append("The input's pixels are all one colour along this stretch, so there is no edge to cross.")
    elif prof.liif_step < prof.nearest_step:
        lines.append(f"The input's own pixels jump by up to {prof.nearest_step:.0f} levels at their edges; LIIF "
                     "crosses those edges in small steps: one continuous function of the position, not a "
                     "grid of squares.")
    else:
        lines.append(f"The input's own pixels jump by up to {prof.nearest_step:.0f} levels at their edges, and "
                     f"LIIF's steepest step here is as large ({prof.liif_step:.0f}): this stretch holds an edge "
                     "it draws as sharp as the input's.")
    lines.append(f"LIIF differs from the model's bicubic by {np.abs(prof.liif - prof.bicubic).mean():.1f} levels "
                 "on average along it.")
    return lines


# -- helpers -----------------------------------------------------------------------------------------


def xy_text(xy) -> str:
    return f"{xy[0]:.3g}×{xy[1]:.3g}"


def _rc(point) -> str:
    return f"({point[0]}, {point[1]})"


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _listing(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _shift(shift) -> str:
    return "none" if shift == (0, 0) else f"({shift[0]:+d}, {shift[1]:+d})"


def _signed(values) -> str:
    return "(" + ", ".join(f"{v:+.2f}" for v in values) + ")"


def _levels(values) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in values) + ")"


def _ints(values) -> str:
    return "(" + ", ".join(str(int(v)) for v in values) + ")"

