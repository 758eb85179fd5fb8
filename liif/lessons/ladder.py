"""The scale ladder: one small region of the picture at ×2, ×4, ×6, ×8, ×16 (and the visitor's scale).

    from liif.lessons.ladder import ladder
    rungs = ladder(engine, load_image("photo.png"), centre=(30, 24), extra_scale=8)
    for rung in rungs: rung.picture, rung.caption, rung.sentence

Every rung is rendered natively at its scale (`Upscaler.render_region`) and shown at the same size, so
what changes from rung to rung is only how much the model had to fill in. Each is labelled by whether
the model saw that scale in training (its crops were shrunk ×1 to ×4) or whether it is extrapolating.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from liif.core.fmt import number
from liif.lessons import experiment
from liif.render import imageio, pictures
from liif.render.pictures import flatten_image, nearest_region
from liif.training.config import trained_scales

LADDER_SCALES = (2.0, 4.0, 6.0, 8.0, 16.0)
DEFAULT_SIDE = 8.0  # input pixels across the region
DISPLAY = 256  # every rung is shown at this many pixels a side
# Two pictures whose mean difference is under this many levels (of 255) look alike side by side.
BARELY_LEVELS = 2.0


@dataclass
class Rung:
    scale: float | None  # None for the input's own pixels
    picture: np.ndarray  # (DISPLAY, DISPLAY, 3) uint8
    native: int  # pixels a side the model rendered (the region's side x the scale)
    trained: bool  # the model saw this scale during training
    caption: str
    sentence: str


def region_box(width: int, height: int, centre=None, side=DEFAULT_SIDE) -> tuple:
    """A square of `side` input pixels around centre = (x, y) (default: the middle), kept inside."""
    side = min(float(side), width, height)
    return pictures.box_around(centre, (side, side), width, height)


def ladder(upscaler, loaded: imageio.LoadedImage, centre=None, extra_scale=None, side=DEFAULT_SIDE,
           scales=LADDER_SCALES, display=DISPLAY, speed=None, max_seconds=None) -> list:
    """The input's own pixels, then one rung per scale (the visitor's `extra_scale` added in order).

    With `speed` (the model's measured Speed) and `max_seconds`, a ladder whose compute (the encoding of
    what the region needs, then every rung's pixels) is over that limit is refused before it starts."""
    box = region_box(loaded.width, loaded.height, centre, side)
    x0, y0, x1, y1 = box
    low, high = trained_scales(upscaler.weights.training)  # what its training crops were shrunk by
    wanted = sorted(set(float(s) for s in scales) | ({float(extra_scale)} if extra_scale else set()))
    image01 = imageio.to_tensor(loaded.rgb)
    if speed is not None and max_seconds is not None:
        out_pixels = sum(max(1, round((x1 - x0) * s)) ** 2 for s in wanted)
        seconds = speed.seconds(upscaler.pixels_to_encode(image01, (y0, x0, y1, x1)), out_pixels)
        if seconds > max_seconds:
            raise experiment.too_much("the scale ladder", loaded.width, loaded.height,
                                      f"take about {seconds:.0f} s of computing here", max_seconds, speed)
    across = x1 - x0
    rungs = [Rung(None, nearest_region(flatten_image(imageio.compose_output(loaded.rgb, loaded)), box, display),
                  round(across), True, f"input: {across:.3g}×{across:.3g} pixels",
                  f"**The input**: {across:.3g}×{across:.3g} pixels of the region, each one colour: the average of "
                  "everything the camera saw in that square.")]
    for scale in wanted:
        native = max(1, round(across * scale))
        out = upscaler.render_region(image01, (y0, x0, y1, x1), (native, native))
        rendered = flatten_image(imageio.compose_output(imageio.to_uint8(out), loaded, box=box))
        shown = np.asarray(Image.fromarray(rendered).resize((display, display), Image.Resampling.NEAREST))
        trained = low <= scale <= high
        rungs.append(Rung(scale, shown, native, trained, caption(scale, trained), sentence(scale, trained, high)))
    return rungs


def caption(scale: float, trained: bool) -> str:
    # Short: a gallery tile on a phone shows about 17 characters.
    return f"×{number(scale)}: " + ("in training" if trained else "extrapolation")


def sentence(scale: float, trained: bool, trained_up_to: float) -> str:
    """How many output pixels share one input pixel at this scale, and what that leaves to infer."""
    share = scale * scale
    count = f"{share:.0f}" if math.isclose(share, round(share)) else f"about {share:.0f}"
    if trained:
        where = f"Seen in training (×1–×{number(trained_up_to)})."
    else:
        where = f"Extrapolation: beyond the ×{number(trained_up_to)} it was trained on."
    return (f"**×{number(scale)}**: {count} output pixels share one input pixel; what was recorded is their "
            f"average, and how the colour varies across those {count} is inferred. {where}")




def changes(rungs: list) -> list:
    """(scale before, scale, mean |difference| in levels) between each rung and the one before it, both as
    shown (the same size): how much a larger scale changes what one sees."""
    return [(a.scale, b.scale, float(np.abs(b.picture.astype(np.int16) - a.picture.astype(np.int16)).mean()))
            for a, b in zip(rungs[1:], rungs[2:])]


def summary(rungs: list, trained_up_to: float) -> str:
    """What the ladder shows, measured: how much the pictures change from scale to scale, within the
    training scales and beyond them."""
    steps = changes(rungs)
    if not steps:
        return ""
    said = "; ".join(f"×{number(a)} → ×{number(b)}: {levels:.1f}" for a, b, levels in steps)
    beyond = [levels for a, b, levels in steps if a >= trained_up_to]
    text = f"**How much each step changes the picture** (mean difference, levels of 255): {said}."
    if beyond and max(beyond) < BARELY_LEVELS:
        text += (f" Past ×{number(trained_up_to)} the pictures barely change (under {BARELY_LEVELS:g} levels a step): "
                 "the model draws no new detail there, it spreads the same smooth shapes over more pixels. "
                 "Whatever a sharper result shows at these scales is invented.")
    return text


def _least_seconds(speeds, values) -> float:
    """The region's own pixels to encode and every rung's: the least a ladder costs (the encoder's
    context around the region comes on top, and `ladder` checks it once the picture is decoded)."""
    width, height = experiment.picture_size(values["picture"])
    side = min(float(values.get("side") or DEFAULT_SIDE), width, height)
    wanted = set(LADDER_SCALES) | ({float(values["scale"])} if values.get("scale") else set())
    return speeds["model"].seconds(side * side, sum(max(1, round(side * s)) ** 2 for s in wanted))


def _run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None) -> experiment.Outcome:
    upscaler = models["model"][1]
    rungs = ladder(upscaler, experiment.loaded_picture(values["picture"]), values.get("centre"),
                   extra_scale=values.get("scale"), side=values.get("side") or DEFAULT_SIDE,
                   speed=speeds and speeds["model"], max_seconds=max_seconds)
    trained_up_to = trained_scales(upscaler.weights.training)[1]
    words = "\n".join(f"- {r.sentence}" for r in rungs)
    if out_path is not None:
        sheet = pictures.side_by_side(*(pictures.label(r.picture, r.caption) for r in rungs), gap=4)
        imageio.save_png(Image.fromarray(sheet), out_path)
    found = {"rungs": [{"scale": r.scale, "native": r.native, "trained": r.trained, "caption": r.caption}
                       for r in rungs],
             "changes": [{"from": a, "to": b, "levels": levels} for a, b, levels in changes(rungs)],
             "trained_up_to": trained_up_to, "file": str(out_path) if out_path else None}
    return experiment.Outcome(found, f"{words}\n\n{summary(rungs, trained_up_to)}",
                              [(r.picture, r.caption) for r in rungs], out_path,
                              f"{len(rungs)} pictures of {rungs[0].picture.shape[1]} px")


EXPERIMENT = experiment.register(experiment.Experiment(
    "ladder", "6b. Scale ladder: ×2 to ×16, what was seen in training and what is extrapolation", "the scale ladder",
    help="render one small region at x2 to x16, side by side (the page's scale ladder)",
    description="The same few input pixels around a point rendered at each scale and shown at one size: which "
                "scales the model was trained on, and how much each step changes the picture. Writes the rungs "
                "side by side as a labelled PNG.",
    inputs=(experiment.Field("picture", "picture"),
            experiment.Field("centre", "point", help="the region's centre, in input pixels (default: the middle)"),
            experiment.Field("side", "float", DEFAULT_SIDE, help="input pixels across the region"),
            experiment.Field("scale", "float", None, help="one more scale to add to x2, x4, x6, x8 and x16")),
    estimate=_least_seconds, run=_run))
