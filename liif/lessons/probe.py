"""Inside one pixel: one LIIF output colour is a small exact sum over four latent codes.

    from liif.lessons.probe import probe
    p = probe(engine, load_image("photo.png"), x=100, y=60, out_size=(512, 512))   # output pixel (100, 60)
    p.rgb, p.rendered_rgb            # the sum's colour, and the engine's render of that pixel
    p.summary(), p.sentences(), p.markdown(), p.picture(), p.profile_picture()

For one output pixel it writes out the model's own query formula (liif/core/reference.py's
`ensemble_terms`, the paper's form of it, for this one query): the point's continuous coordinate, the
four shifted queries of the local ensemble and the grid points (latent codes) they land on, what the
decoder is given for each besides the feature (the offset from the code's centre and the cell), what it
answers, the area weights, and the bicubic term the shipped models add (`residual: bicubic`). Then

    Σ weight × answer + bicubic term, clamped to 0..255 and rounded  ==  p.rgb, exactly,

and `rgb` is the engine's render of that pixel (`rendered_rgb`) to within the last level: the engine
computes the same function another way (the decoder's first layer as a convolution, bands, chunks).

It uses the engine's cached encoding (`Upscaler.encode`), so once a picture has been upscaled a probe
costs a few decoder calls. The formula runs on a window of codes around the point (`ensemble_terms` with
`window`: the same numbers as on the whole grid), so its cost does not grow with the picture.

`profile` samples LIIF along the output row through the point, many times per input pixel, beside the
model's bicubic and the input's own pixels: one continuous function, not squares. With `variants=True`
a small crop around the point is rendered again with the local ensemble off and with the cell of ×1:
switches changed at rendering time, with the same weights, and what each changes, measured.
"""

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from liif.core import fmt, geometry
from liif.core.reference import ensemble_terms
from liif.render import imageio

# The formula runs on the latent codes this many input pixels around the point (each way): the ensemble's
# neighbour codes (1) and their 3x3 unfold (1), and one to spare. (The bicubic term reads the whole input:
# 16 of its pixels.)
WINDOW_MARGIN = 3
# The profile: this many input pixels across, sampled this many times per input pixel.
PROFILE_SPAN = 4
PROFILE_STEPS = 16
# The variants' crop: this many output pixels a side (fewer where the output is smaller).
VARIANT_SIDE = 32
# picture(): this many input pixels a side, each drawn this many screen pixels wide.
PICTURE_PIXELS = 4
PICTURE_CELL = 150
PICTURE_MIN_WIDTH = 560  # room for the legend under a picture of fewer pixels
LABEL_SIZE = 15  # font size of every label drawn, in pixels
LEVELS = 255.0
HALF = LEVELS / 2  # the model's [-1, 1] colour units are this many levels each
FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
NOT_RETRAINED = "changed at rendering time, not retrained"
# A probe is a few dozen small tensor operations. On a shared 2-core machine, each one split over two
# threads waits for the busy core: 250 ms a probe on two threads against 11 ms on one (measured: 64x64 at
# x8 beside a training run). The engine serves one request at a time, so a probe's work runs on one.
PROBE_THREADS = 1


# -- the results --------------------------------------------------------------------------------------


@dataclass
class Neighbour:
    """One shifted query of the local ensemble: the latent code it landed on and its part of the sum."""

    shift: tuple  # (row, column) direction of the shift, e.g. (-1, 1); (0, 0) without the local ensemble
    grid_point: tuple  # (row, column) of the latent code in the input grid
    offset_px: tuple  # (x, y): from the grid point's centre to the query point, in input pixels
    decoder_input: tuple  # what the decoder is given besides the feature, in its order and units (see below)
    answer: tuple  # the decoder's output, levels of 255 (R, G, B): a correction with the bicubic residual
    weight: float  # area weight; the weights of a query sum to 1

    def summary(self) -> dict:
        return {"shift": list(self.shift), "grid_point": {"row": self.grid_point[0], "col": self.grid_point[1]},
                "offset_px": list(self.offset_px), "decoder_input": list(self.decoder_input),
                "answer": list(self.answer), "weight": self.weight}


@dataclass
class Profile:
    """LIIF along one output row, sampled finely, beside the model's bicubic and the input's own pixels."""

    x_px: np.ndarray  # (n,) sample positions along the row, input pixels
    y_px: float  # the row's position, input pixels
    liif: np.ndarray  # (n, 3) levels, as rendered (clamped, not rounded)
    bicubic: np.ndarray  # (n, 3) levels: the model's bicubic (grid_sample, a = -0.75), clamped
    nearest: np.ndarray  # (n, 3) the input pixel under each sample
    point_px: float  # the probed point's x, input pixels
    point_rgb: tuple | None  # the probed pixel's colour, to mark on the plot
    steps: int  # samples per input pixel
    cell_px: tuple  # (x, y) the cell every sample was rendered with: the full output's

    @property
    def liif_step(self) -> float:
        """The largest change of LIIF between neighbouring samples, levels (any channel)."""
        return _largest_step(self.liif)

    @property
    def nearest_step(self) -> float:
        return _largest_step(self.nearest)

    @property
    def bicubic_step(self) -> float:
        return _largest_step(self.bicubic)

    def summary(self) -> dict:
        return {"x_px": _floats(self.x_px), "y_px": self.y_px, "liif": _rows(self.liif),
                "bicubic": _rows(self.bicubic), "nearest": _rows(self.nearest), "steps_per_pixel": self.steps,
                "largest_step": {"liif": self.liif_step, "bicubic": self.bicubic_step, "nearest": self.nearest_step},
                "mean_abs_liif_minus_bicubic": float(np.abs(self.liif - self.bicubic).mean())}

    def sentences(self) -> list:
        x0, x1 = self.x_px[0] - 0.5 / self.steps, self.x_px[-1] + 0.5 / self.steps
        lines = [f"Along this output row (input y = {self.y_px:.3f}), from x = {x0:.3g} to {x1:.3g}, LIIF was "
                 f"rendered {self.steps} times per input pixel, each sample still with the cell of the whole "
                 f"output ({_size(self.cell_px)} input pixels): it changes by at most {self.liif_step:.1f} levels "
                 f"from one sample to the next (the model's bicubic by {self.bicubic_step:.1f})."]
        if self.nearest_step < 1:
            lines.append("The input's pixels are all one colour along this stretch, so there is no edge to cross.")
        elif self.liif_step < self.nearest_step:
            lines.append(f"The input's own pixels jump by up to {self.nearest_step:.0f} levels at their edges; LIIF "
                         "crosses those edges in small steps: one continuous function of the position, not a "
                         "grid of squares.")
        else:
            lines.append(f"The input's own pixels jump by up to {self.nearest_step:.0f} levels at their edges, and "
                         f"LIIF's steepest step here is as large ({self.liif_step:.0f}): this stretch holds an edge "
                         "it draws as sharp as the input's.")
        lines.append(f"LIIF differs from the model's bicubic by {np.abs(self.liif - self.bicubic).mean():.1f} levels "
                     "on average along it.")
        return lines

    def picture(self, width: int = 640) -> Image.Image:
        return _profile_picture(self, width)


@dataclass
class Variant:
    """A crop around the point rendered with one switch changed at rendering time (same weights)."""

    name: str  # "as trained", "local ensemble off", "cell of ×1"
    label: str  # for a picture's caption
    what: str  # one sentence: what was changed
    image: np.ndarray = field(repr=False)  # (h, w, 3) uint8, the crop
    mean_abs_levels: float = 0.0  # mean |this - as trained| over the crop, levels of 255
    pixel_rgb: tuple = ()  # the probed pixel in this render
    origin: tuple = (0, 0)  # (x, y) of the crop's first pixel in the whole output

    def summary(self) -> dict:
        return {"name": self.name, "label": self.label, "what": self.what, "mean_abs_levels": self.mean_abs_levels,
                "pixel_rgb": list(self.pixel_rgb), "origin": list(self.origin)}


@dataclass
class Probe:
    """One output pixel, as the sum the model computes. Pixel positions are (x, y); the model's own units
    ([-1, 1] coordinates, its decoder's input) are in its (row, column) order, as it receives them."""

    x: int
    y: int
    out_size: tuple  # (width, height) of the whole output
    in_size: tuple  # (width, height) of the input
    coord_px: tuple  # (x, y): the output pixel's centre, in input pixels
    coord_model: tuple  # (row, column): the same point in the model's [-1, 1] units
    cell_px: tuple  # (x, y): the output pixel's size, in input pixels
    cell_model: tuple  # (row, column): the same in [-1, 1] units (2 / H, 2 / W)
    neighbours: list  # Neighbour, one per shifted query (4 with the local ensemble), in the authors' order
    residual: str  # "bicubic" (answers are corrections) or "none" (answers are colours)
    weighted_sum: tuple  # Σ weight × answer, levels (R, G, B)
    bicubic_term: tuple  # what the model adds to it: its bicubic, levels; zeros for residual "none"
    model_bicubic: tuple  # the model's bicubic here (grid_sample, a = -0.75), levels, whether or not added
    total: tuple  # weighted_sum + bicubic_term, before clamping and rounding
    rgb: tuple  # the total clamped to 0..255 and rounded: this pixel's colour
    rendered_rgb: tuple  # the engine's render of this pixel (region of the full render's grid and cell)
    page_bicubic_rgb: tuple  # the page's bicubic picture here (Pillow, a = -0.5)
    precision: str  # the engine's: "fp32" or "bf16"
    feature_numbers: int  # numbers of the feature the decoder is given per code (576 with the 3x3 unfold)
    cell_decode: bool
    seconds: float = 0.0
    encoder_reused: bool = True  # False when this probe had to encode the picture
    encoder_seconds: float = 0.0  # time spent encoding for this probe (0 when reused)
    around: np.ndarray = field(default=None, repr=False)  # input pixels around the point, for picture()
    around_origin: tuple = (0, 0)  # (x, y) of around's first pixel in the input
    profile: Profile | None = None
    variants: list = field(default_factory=list)

    # -- numbers ---------------------------------------------------------------------------------------

    def recomputed_rgb(self) -> tuple:
        """The colour from the reported numbers alone: Σ weight × answer + bicubic term, clamped, rounded."""
        return _colour(_weighted_sum(self.neighbours), self.bicubic_term)[1]

    @property
    def distinct_points(self) -> list:
        """[(grid point, how many shifts landed on it, their summed weight)], in first-landing order."""
        seen = {}
        for n in self.neighbours:
            count, weight = seen.get(n.grid_point, (0, 0.0))
            seen[n.grid_point] = (count + 1, weight + n.weight)
        return [(point, count, weight) for point, (count, weight) in seen.items()]

    def nearest_point(self) -> tuple:
        """The grid point whose centre is nearest the query point."""
        return min(self.neighbours, key=lambda n: math.hypot(*n.offset_px)).grid_point

    def heaviest_point(self) -> tuple:
        return max(self.distinct_points, key=lambda item: item[2])[0]

    def bilinear_like(self) -> bool:
        """Whether each grid point's summed weight is bilinear interpolation's (1 - |dx|)(1 - |dy|)."""
        offsets = {n.grid_point: n.offset_px for n in self.neighbours}
        if len(self.neighbours) != 4:
            return False
        return all(abs(weight - (1 - min(1, abs(offsets[p][0]))) * (1 - min(1, abs(offsets[p][1])))) < 1e-3
                   for p, _, weight in self.distinct_points)

    @property
    def bicubic_gap(self) -> float:
        """The largest |page's bicubic - model's bicubic| here, over R, G, B, levels."""
        return max(abs(a - b) for a, b in zip(self.page_bicubic_rgb, self.model_bicubic))

    @property
    def render_gap(self) -> int:
        return max(abs(a - b) for a, b in zip(self.rgb, self.rendered_rgb))

    def summary(self) -> dict:
        """The JSON description (the API's and `python -m liif probe --json`)."""
        order = ["offset rows", "offset cols"] + (["cell rows", "cell cols"] if self.cell_decode else [])
        out = {
            "pixel": {"x": self.x, "y": self.y},
            "output": {"width": self.out_size[0], "height": self.out_size[1]},
            "input": {"width": self.in_size[0], "height": self.in_size[1]},
            "coord": {"input_px": {"x": self.coord_px[0], "y": self.coord_px[1]},
                      "model": {"row": self.coord_model[0], "col": self.coord_model[1]}},
            "cell_px": {"x": self.cell_px[0], "y": self.cell_px[1]},
            "cell_model": {"row": self.cell_model[0], "col": self.cell_model[1]},
            "residual": self.residual,
            "decoder_input_order": order,
            "feature_numbers": self.feature_numbers,
            "neighbours": [n.summary() for n in self.neighbours],
            "weighted_sum": list(self.weighted_sum),
            "bicubic_term": list(self.bicubic_term),
            "model_bicubic": list(self.model_bicubic),
            "total": list(self.total),
            "rgb": list(self.rgb),
            "rendered_rgb": list(self.rendered_rgb),
            "page_bicubic_rgb": list(self.page_bicubic_rgb),
            "page_bicubic_minus_model_bicubic": [p - m for p, m in zip(self.page_bicubic_rgb, self.model_bicubic)],
            "precision": self.precision,
            "seconds": self.seconds,
            "encoder_reused": self.encoder_reused,
            "encoder_seconds": self.encoder_seconds,
        }
        if self.profile is not None:
            out["profile"] = self.profile.summary()
        if self.variants:
            out["variants"] = [v.summary() for v in self.variants]
        return out

    # -- words -----------------------------------------------------------------------------------------

    def sentences(self) -> list:
        """What the numbers say, in sentences generated from them."""
        (px, py), (cx, cy) = self.coord_px, self.cell_px
        w_out, h_out = self.out_size
        told = "the cell the decoder is told about" if self.cell_decode else "a cell this model is not told about"
        lines = [f"Output pixel ({self.x}, {self.y}) of the {fmt.size(w_out, h_out)} picture is centred at "
                 f"({px:.4g}, {py:.4g}) in input pixels: ({self.coord_model[0]:.5f}, {self.coord_model[1]:.5f}) "
                 f"as (row, column) in the model's [-1, 1] units. It covers {_size((cx, cy))} input pixels, {told}."]
        given = "the offset from the code's centre to this point" + (" and the cell" if self.cell_decode else "")
        points = self.distinct_points
        if len(self.neighbours) == 1:
            lines.append(f"This model blends no neighbours (local ensemble off): the one code at grid point "
                         f"{_rc(self.neighbours[0].grid_point)} answers alone, given its {self.feature_numbers} "
                         f"feature numbers and {given}.")
        else:
            lines.append(f"The decoder (an MLP) was asked {len(self.neighbours)} times, once per shifted query of the "
                         f"local ensemble, each time given the {self.feature_numbers} feature numbers of the latent "
                         f"code the shift landed on and {given}.")
            if len(points) == len(self.neighbours):
                lines.append("The shifts landed on the grid points " + _listing([_rc(p) for p, _, _ in points]) + ".")
            else:
                where = "corner" if len(points) == 1 else "border"
                landed = _listing([f"{_rc(p)} {_times(count)}" for p, count, _ in points])
                lines.append(f"So close to the {where}, the {len(self.neighbours)} shifts landed on only {len(points)} "
                             f"grid point{'s' if len(points) > 1 else ''}: {landed}; each landing is asked and "
                             "weighted on its own, as the model does.")
            heaviest = self.heaviest_point()
            weight = next(wt for p, _, wt in points if p == heaviest)
            rule = ("Each answer is weighted by the area of the rectangle between this point and the diagonally "
                    "opposite grid point, so the weights sum to 1")
            if len(points) == 1:
                lines.append(f"{rule}, and here all of it, {weight:.3f}, goes to {_rc(heaviest)}.")
            elif heaviest == self.nearest_point():
                lines.append(f"{rule} and the grid point nearest this point, {_rc(heaviest)}, weighs most: "
                             f"{weight:.3f}.")
            else:
                lines.append(f"{rule}; the largest weight, {weight:.3f}, goes to {_rc(heaviest)}.")
            if self.bilinear_like():
                lines.append("Added up per grid point, these are exactly bilinear interpolation's weights, "
                             "(1 - |dx|)(1 - |dy|): the ensemble blends the four answers the way bilinear blends "
                             "four pixels.")
        clamped = any(t < 0 or t > LEVELS for t in self.total)
        how = "clamps to 0..255 and rounds" if clamped else "rounds"
        if self.residual == "bicubic":
            lines.append(f"This model predicts the difference from bicubic, so its answers are corrections in levels "
                         f"of 255: weighted, they add up to {_signed(self.weighted_sum)}. The model's own bicubic "
                         f"here (grid_sample, a = -0.75) is {_levels(self.bicubic_term)}; the total "
                         f"{_levels(self.total)} {how} to {_ints(self.rgb)}.")
        else:
            lines.append(f"This model's answers are colours (no bicubic term): their weighted sum "
                         f"{_levels(self.total)} {how} to {_ints(self.rgb)}.")
        precision = "in bf16, " if self.precision == "bf16" else ""
        if self.rendered_rgb == self.rgb:
            lines.append(f"The engine's render of the whole picture has exactly {_ints(self.rendered_rgb)} here: the "
                         "sum above is the model, computed by hand.")
        else:
            lines.append(f"The engine's render of the whole picture has {_ints(self.rendered_rgb)} here, at most "
                         f"{self.render_gap} level{'s' if self.render_gap > 1 else ''} off: it computes the same "
                         f"function another way ({precision}the decoder's first layer as one convolution), so the "
                         "last level can round the other way.")
        lines.append(f"The page's bicubic picture (Pillow's, a = -0.5) has {_ints(self.page_bicubic_rgb)} here, "
                     f"{self.bicubic_gap:.1f} level{'' if round(self.bicubic_gap, 1) == 1 else 's'} at most from "
                     "the model's bicubic (a = -0.75): two bicubics, not one.")
        return lines

    def markdown(self) -> str:
        """The sentences and the table of the neighbours, for the page and `python -m liif probe`."""
        cell_part = ", cell (rows, cols)" if self.cell_decode else ""
        answer = "correction (R, G, B)" if self.residual == "bicubic" else "colour (R, G, B)"
        table = [f"| shift | grid point (row, col) | offset to the point (x, y), input px | decoder input: offset "
                 f"(rows, cols){cell_part} | {answer} | weight |",
                 "| --- | --- | --- | --- | --- | --- |"]
        for n in self.neighbours:
            table.append(f"| {_shift(n.shift)} | {_rc(n.grid_point)} | ({n.offset_px[0]:+.3f}, {n.offset_px[1]:+.3f}) "
                         f"| {', '.join(f'{v:+.4f}' for v in n.decoder_input)} | {_signed(n.answer)} | "
                         f"{n.weight:.4f} |")
        term = f" + bicubic {_levels(self.bicubic_term)}" if self.residual == "bicubic" else ""
        sum_line = (f"**Σ weight × answer** = {_signed(self.weighted_sum)}{term} = {_levels(self.total)} → "
                    f"**{_ints(self.rgb)}**; the engine rendered **{_ints(self.rendered_rgb)}** "
                    f"({self.precision}, {fmt.seconds(self.seconds)} for this probe"
                    + ("" if self.encoder_reused else f", {fmt.seconds(self.encoder_seconds)} of it encoding") + ").")
        parts = [" ".join(self.sentences()), "\n".join(table), sum_line]
        if self.profile is not None:
            parts.append(" ".join(self.profile.sentences()))
        if self.variants:
            parts.append(variants_markdown(self.variants))
        return "\n\n".join(parts)

    # -- pictures --------------------------------------------------------------------------------------

    def picture(self, cell: int = PICTURE_CELL) -> Image.Image:
        """The input's pixels around the point, enlarged, with the grid points (each dot's area grows with
        its weight), their weights, and the query point with its cell."""
        return _grid_picture(self, cell)

    def profile_picture(self, width: int = 640) -> Image.Image:
        if self.profile is None:
            raise ValueError("this probe was made without a profile (profile_span=0)")
        return self.profile.picture(width)

    def variants_picture(self, side: int = 224) -> Image.Image:
        if not self.variants:
            raise ValueError("this probe was made without variants (variants=True makes them)")
        return _variants_picture(self.variants, side)


# -- the computation ---------------------------------------------------------------------------------


def probe(upscaler, image, x, y, out_size, *, profile_span: float = PROFILE_SPAN, profile_steps: int = PROFILE_STEPS,
          variants: bool = False, speed=None, max_seconds=None) -> Probe:
    """Output pixel (x, y) of `image` rendered at out_size = (width, height), as the sum the model computes.

    image: a LoadedImage, a (H, W, 3) uint8 array or a (1, 3, h, w) tensor in [0, 1]. The encoding comes
    from (and stays in) the engine's cache for its current owner. `profile_span` input pixels of the row
    are sampled for `profile` (0: none); `variants` re-renders a crop with switches changed. With `speed`
    (the model's measured Speed) and `max_seconds`, a probe that would have to encode a picture too large
    for that is refused before it starts (ImageInputError, as for any unusable input or point)."""
    start = time.perf_counter()
    image01, rgb = _inputs(image)
    _, _, h, w = image01.shape
    x, y, out_w, out_h = check_point(x, y, out_size)
    to_encode = upscaler.pixels_to_encode(image01, (0.0, 0.0, float(h), float(w)))
    if speed is not None and max_seconds is not None:
        seconds = speed.seconds(to_encode, 1 + profile_span * profile_steps + (3 * VARIANT_SIDE**2 if variants else 0))
        if seconds > max_seconds:
            side = math.isqrt(int(max_seconds / 2 / speed.encoder_seconds_per_pixel))
            raise imageio.ImageInputError(
                f"looking inside a pixel of this {w}×{h} picture would first take about {seconds:.0f} s of encoding "
                f"here; this server takes requests of up to {max_seconds:.0f} s. Shrink the picture to about "
                f"{side}×{side} pixels first")
    enc = upscaler.encode(image01)
    with _one_thread():
        result = _sum_at(upscaler, enc, image01, rgb, x, y, out_w, out_h)
        if profile_span:
            result.profile = _profile(upscaler, image01, rgb, x, y, out_w, out_h, profile_span, profile_steps)
            result.profile.point_rgb = result.rgb
        if variants:
            result.variants = _variants(upscaler, image01, x, y, out_w, out_h, VARIANT_SIDE)
    result.encoder_reused = not to_encode
    result.encoder_seconds = enc.seconds if to_encode else 0.0
    result.seconds = time.perf_counter() - start
    return result


def _sum_at(upscaler, enc, image01, rgb, x, y, out_w, out_h) -> Probe:
    """The probe's numbers (without profile, variants and timings), from the picture's encoding."""
    _, _, h, w = image01.shape
    model = upscaler.model
    cfg = model.config

    # The point as the full render has it: the centre of output pixel (x, y), and the output's cell.
    u_row = geometry.pixel_centres(out_h)[y].item()
    u_col = geometry.pixel_centres(out_w)[x].item()
    py, px = (u_row + 1) * h / 2, (u_col + 1) * w / 2  # input pixels
    cell = (2.0 / out_h, 2.0 / out_w)

    # The formula on the codes around the point only (a window of the latent grid, in the whole grid's
    # units): the same numbers as on the whole grid, at the same cost in any picture.
    r0, r1 = max(0, math.floor(py) - WINDOW_MARGIN), min(h, math.floor(py) + WINDOW_MARGIN + 1)
    c0, c1 = max(0, math.floor(px) - WINDOW_MARGIN), min(w, math.floor(px) + WINDOW_MARGIN + 1)
    device = enc.feat.device
    coord = torch.tensor([[[u_row, u_col]]], device=device)
    with upscaler.autocast():  # the engine's precision: in bf16 the decoder rounds as the renders do
        terms = ensemble_terms(model, enc.feat[:, :, r0:r1, c0:c1], coord, torch.tensor([[cell]], device=device),
                               enc.inp, window=(r0, c0, h, w))
        model_bicubic = (terms.bicubic if terms.bicubic is not None else geometry.bicubic_at(enc.inp, coord))[0, 0]

    neighbours = []
    shifts = geometry.ENSEMBLE_SHIFTS if cfg.local_ensemble else ((0, 0),)
    for shift, point, position, pred, weight in zip(shifts, terms.grid_points, terms.positions, terms.preds,
                                                    terms.weights()):
        row, col = (int(v) for v in point[0, 0].tolist())
        decoder_input = tuple(float(v) for v in position[0, 0].float().tolist())
        answer = pred[0, 0].float() * HALF + (0 if cfg.residual == "bicubic" else HALF)
        neighbours.append(Neighbour(
            shift=tuple(shift), grid_point=(row, col),
            offset_px=(decoder_input[1] / 2, decoder_input[0] / 2),  # the model's offset is 2 per latent pixel
            decoder_input=decoder_input, answer=tuple(float(v) for v in answer.tolist()),
            weight=float(weight[0, 0].float().item())))
    model_bicubic_levels = tuple(float(v) for v in (model_bicubic * HALF + HALF).tolist())
    bicubic_term = model_bicubic_levels if cfg.residual == "bicubic" else (0.0, 0.0, 0.0)
    weighted = _weighted_sum(neighbours)
    total, colour = _colour(weighted, bicubic_term)

    # The engine's render of this pixel: a 1x1 region of the full render's grid, with its cell.
    box = (y * h / out_h, x * w / out_w, (y + 1) * h / out_h, (x + 1) * w / out_w)
    rendered = upscaler.render_region(image01, box, (1, 1), cell_size=(out_h, out_w))
    rendered_rgb = tuple(int(v) for v in imageio.to_uint8(rendered)[0, 0])
    page_bicubic = Image.fromarray(rgb).resize((1, 1), Image.Resampling.BICUBIC, box=(box[1], box[0], box[3], box[2]))
    page_bicubic_rgb = tuple(int(v) for v in np.asarray(page_bicubic)[0, 0])

    side = min(PICTURE_PIXELS, w), min(PICTURE_PIXELS, h)
    ax = min(max(round(px - side[0] / 2), 0), w - side[0])
    ay = min(max(round(py - side[1] / 2), 0), h - side[1])
    result = Probe(
        x=x, y=y, out_size=(out_w, out_h), in_size=(w, h), coord_px=(px, py), coord_model=(u_row, u_col),
        cell_px=(cell[1] * w / 2, cell[0] * h / 2), cell_model=cell, neighbours=neighbours, residual=cfg.residual,
        weighted_sum=weighted, bicubic_term=bicubic_term, model_bicubic=model_bicubic_levels, total=total, rgb=colour,
        rendered_rgb=rendered_rgb, page_bicubic_rgb=page_bicubic_rgb, precision=upscaler.precision,
        feature_numbers=model.feat_dim, cell_decode=cfg.cell_decode,
        around=np.ascontiguousarray(rgb[ay : ay + side[1], ax : ax + side[0]]),
        around_origin=(ax, ay))
    return result


def profile(upscaler, image, x, y, out_size, *, span: float = PROFILE_SPAN, steps: int = PROFILE_STEPS) -> Profile:
    """LIIF along output row y, over `span` input pixels around output pixel x, `steps` samples per input
    pixel, every sample with the full output's cell; beside it the model's bicubic and the input's pixels."""
    image01, rgb = _inputs(image)
    x, y, out_w, out_h = check_point(x, y, out_size)
    upscaler.encode(image01)  # the whole picture's encoding, as a full render has it (cached)
    with _one_thread():
        return _profile(upscaler, image01, rgb, x, y, out_w, out_h, span, steps)


def _profile(upscaler, image01, rgb, x, y, out_w, out_h, span, steps) -> Profile:
    _, _, h, w = image01.shape
    if not (isinstance(steps, int) and steps >= 1) or not span > 0:
        raise imageio.ImageInputError("a profile needs a span greater than 0 and a whole number of steps, at least 1")
    span = min(float(span), float(w))
    px = (x + 0.5) * w / out_w
    left = min(max(px - span / 2, 0.0), w - span)
    n = max(2, round(span * steps))
    box = (y * h / out_h, left, (y + 1) * h / out_h, left + span)
    out = upscaler.render_region(image01, box, (1, n), cell_size=(out_h, out_w))
    liif = out[0, :, 0, :].t().float().cpu().numpy() * LEVELS
    enc = upscaler.encode(image01)  # cached: the caller encoded the whole picture
    ys, xs, _ = geometry.region_grid(box, (1, n), h, w, device=enc.inp.device)
    coord = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, -1, 2)
    bicubic = (geometry.bicubic_at(enc.inp, coord)[0] * 0.5 + 0.5).clamp(0, 1).cpu().numpy() * LEVELS
    x_px = left + (np.arange(n) + 0.5) * span / n
    y_px = (y + 0.5) * h / out_h
    nearest = rgb[min(h - 1, math.floor(y_px)), np.clip(np.floor(x_px).astype(np.int64), 0, w - 1)].astype(np.float64)
    return Profile(x_px=x_px, y_px=y_px, liif=liif.astype(np.float64), bicubic=bicubic.astype(np.float64),
                   nearest=nearest, point_px=px, point_rgb=None, steps=steps,
                   cell_px=(w / out_w, h / out_h))


def render_variants(upscaler, image, x, y, out_size, side: int = VARIANT_SIDE) -> list:
    """A crop of the output around pixel (x, y), as trained and with one switch changed at rendering time
    each (same weights): the local ensemble off (one code per query), and the cell of ×1 (the decoder told
    the output pixel is one input pixel wide). Each with its mean |difference| from the crop as trained."""
    image01, _ = _inputs(image)
    x, y, out_w, out_h = check_point(x, y, out_size)
    upscaler.encode(image01)
    with _one_thread():
        return _variants(upscaler, image01, x, y, out_w, out_h, side)


def _variants(upscaler, image01, x, y, out_w, out_h, side) -> list:
    _, _, h, w = image01.shape
    sw, sh = min(side, out_w), min(side, out_h)
    x0, y0 = min(max(x - sw // 2, 0), out_w - sw), min(max(y - sh // 2, 0), out_h - sh)
    box = (y0 * h / out_h, x0 * w / out_w, (y0 + sh) * h / out_h, (x0 + sw) * w / out_w)
    cfg = upscaler.model.config

    def crop(cell_size=(out_h, out_w)):
        return imageio.to_uint8(upscaler.render_region(image01, box, (sh, sw), cell_size=cell_size))

    base = crop()
    found = [Variant("as trained", "as trained", "the model as it renders the whole output", base, 0.0,
                     tuple(int(v) for v in base[y - y0, x - x0]), (x0, y0))]
    if cfg.local_ensemble:
        with _switched(cfg, local_ensemble=False):
            found.append(_variant("local ensemble off", "ensemble off", "each query asks only the code nearest "
                                  "to it, with no blend of four", crop(), base, x - x0, y - y0, (x0, y0)))
    if cfg.cell_decode:
        found.append(_variant("cell of ×1", "cell of ×1", f"the decoder is told each output pixel is one input pixel "
                              f"wide (the cell of ×1), not {_size((w / out_w, h / out_h))}", crop((h, w)), base,
                              x - x0, y - y0, (x0, y0)))
    return found


def variants_markdown(variants: list) -> str:
    lines = [f"Re-rendered around the point ({NOT_RETRAINED}, same weights):"]
    for v in variants[1:]:
        lines.append(f"- **{v.name}**: {v.what}; the crop changes by {v.mean_abs_levels:.1f} levels on average, and "
                     f"this pixel becomes {_ints(v.pixel_rgb)} (as trained: {_ints(variants[0].pixel_rgb)}).")
    return "\n".join(lines)


def check_point(x, y, out_size) -> tuple:
    """(x, y, out_width, out_height) as ints; ImageInputError with one sentence when the output size is not
    two whole numbers of at least 1, or (x, y) is not an output pixel."""
    try:
        out_w, out_h = (_whole(v) for v in out_size)
    except (TypeError, ValueError):
        raise imageio.ImageInputError(f"the output size must be two whole numbers (width, height), not {out_size!r}") from None
    if out_w < 1 or out_h < 1:
        raise imageio.ImageInputError(f"the output must be at least 1×1 pixels, not {out_w}×{out_h}")
    try:
        x, y = _whole(x), _whole(y)
    except (TypeError, ValueError):
        raise imageio.ImageInputError(f"the pixel must be two whole numbers x, y, not {x!r}, {y!r}") from None
    if not (0 <= x < out_w and 0 <= y < out_h):
        raise imageio.ImageInputError(f"the pixel ({x}, {y}) is outside the {out_w}×{out_h} output: x runs from 0 to "
                                      f"{out_w - 1} and y from 0 to {out_h - 1}")
    return x, y, out_w, out_h


# -- helpers -----------------------------------------------------------------------------------------


def _whole(value) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError


def _inputs(image) -> tuple:
    """(image01 (1, 3, h, w) float in [0, 1], rgb (h, w, 3) uint8) from what a caller holds."""
    if isinstance(image, imageio.LoadedImage):
        return imageio.to_tensor(image.rgb), image.rgb
    if isinstance(image, torch.Tensor):
        if image.dim() != 4 or image.shape[:2] != (1, 3):
            raise imageio.ImageInputError(f"the picture must be a (1, 3, h, w) tensor, not {tuple(image.shape)}")
        return image, imageio.to_uint8(image)
    loaded = imageio.load_image(image)
    return imageio.to_tensor(loaded.rgb), loaded.rgb


def _weighted_sum(neighbours: list) -> tuple:
    return tuple(sum(n.weight * n.answer[c] for n in neighbours) for c in range(3))


def _colour(weighted: tuple, bicubic_term: tuple) -> tuple:
    """(total, rgb): the sum and its colour, clamped to 0..255 and rounded half to even as the engine does."""
    total = tuple(s + b for s, b in zip(weighted, bicubic_term))
    return total, tuple(int(min(LEVELS, max(0.0, round(t)))) for t in total)


@contextmanager
def _one_thread():
    before = torch.get_num_threads()
    if before > PROBE_THREADS:
        torch.set_num_threads(PROBE_THREADS)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextmanager
def _switched(config, **changes):
    """The model's config with some switches changed, put back afterwards (the caller holds the model)."""
    before = {name: getattr(config, name) for name in changes}
    try:
        for name, value in changes.items():
            setattr(config, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(config, name, value)


def _variant(name, label, what, image, base, px, py, base_origin) -> Variant:
    diff = float(np.abs(image.astype(np.int16) - base.astype(np.int16)).mean())
    return Variant(name, label, what, image, diff, tuple(int(v) for v in image[py, px]), base_origin)


def _largest_step(values: np.ndarray) -> float:
    return float(np.abs(np.diff(values, axis=0)).max()) if len(values) > 1 else 0.0


def _floats(values) -> list:
    return [float(v) for v in values]


def _rows(values: np.ndarray) -> list:
    return [[round(float(v), 3) for v in row] for row in values]


def _size(xy) -> str:
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


def _grid_picture(p: Probe, cell: int) -> Image.Image:
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


CHANNELS = (("R", (200, 30, 30)), ("G", (20, 140, 40)), ("B", (30, 70, 210)))


def _profile_picture(prof: Profile, width: int) -> Image.Image:
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


def _variants_picture(variants: list, side: int) -> Image.Image:
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
