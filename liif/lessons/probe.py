"""Inside one pixel: one LIIF output colour is a small exact sum over four latent codes.

    from liif.lessons.probe import probe
    p = probe(engine, load_image("photo.png"), x=100, y=60, out_size=(512, 512))   # output pixel (100, 60)
    p.rgb, p.rendered_rgb            # the sum's colour, and the engine's render of that pixel
    p.summary(), probe_words.probe_markdown(p), probe_pictures.grid_picture(p)
    p.feature_around                 # the same place in the explanation's picture of the feature grid

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
model's bicubic and the input's own pixels: one continuous function, not squares.

The results are dataclasses of probe_results.py; their sentences are written by probe_words.py and their
pictures drawn by probe_pictures.py.
"""

import math
import re
import time

import numpy as np
import torch
from PIL import Image

from liif.core import geometry
from liif.core.reference import ensemble_terms
from liif.lessons import experiment, probe_pictures, probe_words
from liif.lessons.explain import feature_pca_image
from liif.lessons.probe_results import LEVELS, Neighbour, Probe, Profile, clamped_colour, weighted_sum
from liif.render import imageio, sizes
from liif.render.precision import torch_threads

# The formula runs on the latent codes this many input pixels around the point (each way): the ensemble's
# neighbour codes (1) and their 3x3 unfold (1), and one to spare. (The bicubic term reads the whole input:
# 16 of its pixels.)
WINDOW_MARGIN = 3
# The profile: this many input pixels across, sampled this many times per input pixel.
PROFILE_SPAN = 4
PROFILE_STEPS = 16
# The input pixels kept around the point for its pictures (probe_pictures.py): this many a side.
PICTURE_PIXELS = 4
HALF = LEVELS / 2  # the model's [-1, 1] colour units are this many levels each
# A probe is a few dozen small tensor operations: on one thread (precision.torch_threads says why). The
# engine serves one request at a time.
PROBE_THREADS = 1


# -- the computation ---------------------------------------------------------------------------------


def probe(upscaler, image, x, y, out_size, *, profile_span: float = PROFILE_SPAN, profile_steps: int = PROFILE_STEPS,
          speed=None, max_seconds=None) -> Probe:
    """Output pixel (x, y) of `image` rendered at out_size = (width, height), as the sum the model computes.

    image: a LoadedImage, a (H, W, 3) uint8 array or a (1, 3, h, w) tensor in [0, 1]. The encoding comes
    from (and stays in) the engine's cache for its current owner. `profile_span` input pixels of the row
    are sampled for `profile` (0: none). With `speed`
    (the model's measured Speed) and `max_seconds`, a probe that would have to encode a picture too large
    for that is refused before it starts (ImageInputError, as for any unusable input or point)."""
    start = time.perf_counter()
    image01, rgb = _inputs(image)
    _, _, h, w = image01.shape
    x, y, out_w, out_h = check_point(x, y, out_size)
    to_encode = upscaler.pixels_to_encode(image01, (0.0, 0.0, float(h), float(w)))
    if speed is not None and max_seconds is not None:
        seconds = speed.seconds(to_encode, 1 + profile_span * profile_steps)
        if seconds > max_seconds:
            raise experiment.too_much("looking inside a pixel", w, h,
                                      f"first take about {seconds:.0f} s of encoding here", max_seconds, speed)
    enc = upscaler.encode(image01)
    with torch_threads(PROBE_THREADS):
        result = _sum_at(upscaler, enc, image01, rgb, x, y, out_w, out_h)
        if profile_span:
            result.profile = _profile(upscaler, image01, rgb, x, y, out_w, out_h, profile_span, profile_steps)
            result.profile.point_rgb = result.rgb
    result.encoder_reused = not to_encode
    result.encoder_seconds = enc.seconds if to_encode else 0.0
    result.seconds = time.perf_counter() - start
    return result


def _sum_at(upscaler, enc, image01, rgb, x, y, out_w, out_h) -> Probe:
    """The probe's numbers (without profile and timings), from the picture's encoding."""
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
    weighted = weighted_sum(neighbours)
    total, colour = clamped_colour(weighted, bicubic_term)

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
        around_origin=(ax, ay),
        # The explanation's picture of the whole feature grid, at the same place: the colours are the whole
        # grid's principal components, so they match that picture (one code per input pixel).
        feature_around=np.ascontiguousarray(feature_pca_image(enc.feat.float().cpu())[ay : ay + side[1],
                                                                                        ax : ax + side[0]]))
    return result


def _profile(upscaler, image01, rgb, x, y, out_w, out_h, span, steps) -> Profile:
    """LIIF along output row y, over `span` input pixels around output pixel x, `steps` samples per input
    pixel, every sample with the full output's cell; beside it the model's bicubic and the input's pixels."""
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
    if isinstance(image, torch.Tensor):
        if image.dim() != 4 or image.shape[:2] != (1, 3):
            raise imageio.ImageInputError(f"the picture must be a (1, 3, h, w) tensor, not {tuple(image.shape)}")
        return image, imageio.to_uint8(image)
    loaded = experiment.loaded_picture(image)
    return imageio.to_tensor(loaded.rgb), loaded.rgb


def parse_at(text: str) -> tuple:
    """"X,Y" -> (x, y) whole numbers; ImageInputError with one sentence otherwise."""
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2 or not all(re.fullmatch(r"-?\d{1,12}", part) for part in parts):
        raise imageio.ImageInputError(f"--at must be two whole numbers X,Y (an output pixel), e.g. 100,60, not {text!r}")
    return int(parts[0]), int(parts[1])


def _least_seconds(speeds, values) -> float:
    """The decoder's few queries: the encoding may be cached already (after a run of the same picture), so
    probe() checks what it must encode once the picture is here, against the same limit."""
    return speeds["model"].seconds(0, 1 + PROFILE_SPAN * PROFILE_STEPS)


def _run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None) -> experiment.Outcome:
    upscaler = models["model"][1]
    at, files = values.get("at"), (values.get("grid_png"), values.get("profile_png"))
    if at is None:
        raise imageio.ImageInputError("choose an output pixel (x, y) first")
    x, y = parse_at(at) if isinstance(at, str) else at
    for path in files:
        if path is not None and not str(path).lower().endswith(".png"):
            raise imageio.ImageInputError(f"{path}: the pictures are PNG, so name a .png file")
    loaded = experiment.loaded_picture(values["picture"])
    out_size = sizes.output_size(loaded.width, loaded.height, scale=values.get("scale"), size=values.get("size"))
    found = probe(upscaler, loaded, x, y, out_size, speed=speeds and speeds["model"], max_seconds=max_seconds)
    for path, draw in zip(files, (lambda: probe_pictures.grid_picture(found),
                                  lambda: probe_pictures.profile_picture(found.profile))):
        if path is not None:
            imageio.save_png(draw(), path)
    # The page's pictures: the opening one for anyone, then the codes' terms and the profile (the input's
    # pixels are the opening picture's, so the terms' picture leaves them out).
    pictures = [(np.asarray(probe_pictures.opening_picture(found)), "your photo's pixels around the point"),
                (np.asarray(probe_pictures.grid_picture(found, with_pixels=False)),
                 "the feature grid and the decoder's answers"),
                (np.asarray(probe_pictures.profile_picture(found.profile)), "along the output row")]
    return experiment.Outcome(found.summary(), probe_words.probe_markdown(found), pictures,
                              lead=probe_words.plain_sentence(found))


EXPERIMENT = experiment.register(experiment.Experiment(
    "probe", "5. Inside one pixel: how its colour was computed", "looking inside a pixel",
    help="look inside one output pixel: its 4 latent codes, weights and the bicubic term",
    description="Write one output pixel of an upscale as the sum the model computes: the four latent codes the "
                "local ensemble asks, what the decoder is given and answers for each, the area weights and the "
                "bicubic term; and the engine's render of that pixel beside it. The same --model and --precision "
                "give the same pixel as `python -m liif upscale`.",
    inputs=(experiment.Field("picture", "picture"),
            experiment.Field("scale", "float", 8.0, help="the upscale's scale factor, e.g. 8 or 3.5", one_of="size",
                             required=True, as_typed=True),
            experiment.Field("size", "text", help="the upscale's exact output size, e.g. 1920x1080", one_of="size",
                             cli_only=True),
            experiment.Field("at", "point", help="the output pixel (column, row), counted from 0", required=True,
                             as_typed=True),
            experiment.Field("grid_png", "path", flag="--picture", cli_only=True,
                             help="write the input's pixels around the point, with the grid points and their "
                                  "weights, as a PNG"),
            experiment.Field("profile_png", "path", flag="--profile", cli_only=True,
                             help="write LIIF along the output row through the point, beside bicubic and the "
                                  "input's pixels, as a PNG")),
    estimate=_least_seconds, run=_run, output="none"))
