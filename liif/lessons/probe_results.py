"""What a probe (liif/lessons/probe.py) returns: one output pixel as the sum the model computes (`Probe`),
each shifted query's part of it (`Neighbour`) and LIIF along the row (`Profile`): the numbers alone. Their
words are made by probe_words.py, their pictures by probe_pictures.py.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from liif.render.pictures import LEVELS


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
        return {"x_px": [float(v) for v in self.x_px], "y_px": self.y_px, "liif": _rows(self.liif),
                "bicubic": _rows(self.bicubic), "nearest": _rows(self.nearest), "steps_per_pixel": self.steps,
                "largest_step": {"liif": self.liif_step, "bicubic": self.bicubic_step, "nearest": self.nearest_step},
                "mean_abs_liif_minus_bicubic": float(np.abs(self.liif - self.bicubic).mean())}


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
    # The same place in the encoder's feature grid (one code per input pixel), coloured as the explanation's
    # picture of it colours the whole grid (explain.feature_pca_image: first 3 principal components).
    feature_around: np.ndarray = field(default=None, repr=False)
    profile: Profile | None = None

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
        return out


# -- helpers -----------------------------------------------------------------------------------------


def weighted_sum(neighbours: list) -> tuple:
    """Σ weight × answer over the neighbours, levels (R, G, B)."""
    return tuple(sum(n.weight * n.answer[c] for n in neighbours) for c in range(3))


def clamped_colour(weighted: tuple, bicubic_term: tuple) -> tuple:
    """(total, rgb): the sum and its colour, clamped to 0..255 and rounded half to even as the engine does."""
    total = tuple(s + b for s, b in zip(weighted, bicubic_term))
    return total, tuple(int(min(LEVELS, max(0.0, round(t)))) for t in total)


def _largest_step(values: np.ndarray) -> float:
    return float(np.abs(np.diff(values, axis=0)).max()) if len(values) > 1 else 0.0


def _rows(values: np.ndarray) -> list:
    return [[round(float(v), 3) for v in row] for row in values]

