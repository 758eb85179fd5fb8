"""What the page accepts, before any work starts: the output size a request asks for, and the model
compute it would take, against the page's limits; and the sentences that say so.

    request = prepare("photo.png", scale=8, speed=shelf.speed())   # checks the file and the output size
    most = max_scale(width, height, speed)                          # the slider's end for a photo
"""

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from liif import settings
from liif.core import fmt
from liif.render import imageio, sizes
from liif.render.engine import Speed, encoded_pixels

# The page says how long a run will take, before it starts, when the estimate is over this (seconds).
SLOW_RUN_SECONDS = 5.0

# The page's own output limit, lower than the command line's: one visitor's run holds the queue, and
# the decoder manages roughly 10-20 thousand output pixels a second on a 2-core CPU. $LIIF_MAX_OUTPUT_PIXELS
# overrides it, as it does for the command line.
PAGE_MAX_OUTPUT_PIXELS = 2_000_000

# The page also limits a request by its work: the model's compute time for it, estimated from the
# encoder's cost per input pixel and the decoder's per output pixel, both measured on this machine for
# the model that runs (engine.Upscaler.speed). One visitor's run holds the only worker, so the heaviest
# accepted request must stay short; the rest of a run (bicubic, explanation, PNG, magnifier, Gradio's own
# encoding of the pictures) adds a few seconds more, and tests/test_public_space.py checks the whole run stays under 20 s. $LIIF_PAGE_SECONDS
# overrides it. Larger work stays possible from the command line.
PAGE_MODEL_SECONDS = 10.0

# A floor under that budget: a request no heavier than x8 of a 64x64 photo (the story's own case: a tiny
# profile photo at x8) is always accepted, however slow this CPU measured. On a 2-core CPU without bf16 that
# run is 10-20 s of computing, but the render is progressive (the first rows show within a second or two,
# the rest fill in), so a visitor watches it happen rather than waits on a refusal of the page's main action.
FLOOR_SIDE, FLOOR_SCALE = 64, 8

# Every page run also shows the magnifier, a fresh LIIF render of MAGNIFIER_TILE x MAGNIFIER_TILE pixels: its
# decoder work is priced with the run's (on a slow CPU it was a third of the heaviest run's time).
MAGNIFIER_TILE = 256

# The page's slider: its steps and its largest scale (lowered for each photo to what that photo allows).
SCALE_STEP = 0.1
SCALE_MAX = 30.0


@dataclass
class Request:
    """A checked request: the decoded input and the output size."""

    loaded: imageio.LoadedImage
    out_width: int
    out_height: int
    name: str = "image"  # the upload's file stem, for the download's name

    @property
    def scales(self) -> tuple:
        return self.out_width / self.loaded.width, self.out_height / self.loaded.height

    @property
    def stretched(self) -> bool:
        """Width and height scaled differently, beyond the rounding of whole pixels (sizes.stretched: 64×48
        at ×5.6 is 358×269, ×5.59 wide and ×5.6 tall, not stretched)."""
        return sizes.stretched(self.loaded.width, self.loaded.height, self.out_width, self.out_height)

    def scale_label(self) -> str:
        """"×8", or "×6.25 wide, ×2.5 tall (stretched)" when the scales differ."""
        sx, sy = self.scales
        if not self.stretched:
            return f"×{sx:.3g}"
        return f"×{sx:.3g} wide, ×{sy:.3g} tall (stretched)"


def max_output_pixels() -> int:
    return imageio.pixel_limit(None, settings.max_output_pixels, PAGE_MAX_OUTPUT_PIXELS)


def page_model_seconds() -> float:
    return settings.page_seconds() or PAGE_MODEL_SECONDS


def budget_seconds(*speeds: Speed) -> float:
    """The model compute a request may take with these speeds (one per model it runs): the page's budget,
    or the floor's work (x8 of a 64x64 photo with each model, and the magnifier) when that is more."""
    floor_out = (FLOOR_SIDE * FLOOR_SCALE) ** 2 + MAGNIFIER_TILE**2
    floor = sum(speed.seconds(encoded_pixels(FLOOR_SIDE, FLOOR_SIDE), floor_out) for speed in speeds)
    return max(page_model_seconds(), floor)


def max_scale(in_width: int, in_height: int, speed: Speed | None = None) -> float:
    """The largest scale (a multiple of SCALE_STEP, at most SCALE_MAX) the page accepts for a photo of
    this size: inside the output limit and, with `speed`, inside the page's work budget. 0 when even
    x1 is refused (the photo itself is too much work)."""
    pixels = in_width * in_height
    out_pixels = max_output_pixels()
    if speed is not None:
        left = budget_seconds(speed) - speed.seconds(encoded_pixels(in_width, in_height), MAGNIFIER_TILE**2)
        out_pixels = min(out_pixels, max(0.0, left) / speed.decoder_seconds_per_pixel)
    steps = math.floor(math.sqrt(out_pixels / pixels) / SCALE_STEP + 1e-9)
    # Whole-pixel rounding can push the last step over.
    while steps > 0 and _refusal(in_width, in_height, *sizes.output_size(in_width, in_height, scale=steps * SCALE_STEP),
                                 speed) is not None:
        steps -= 1
    return min(SCALE_MAX, round(steps * SCALE_STEP, 1)) if steps >= 1 / SCALE_STEP else 0.0


def cap_text(in_width: int, in_height: int, most: float, speed: Speed | None = None) -> str:
    """Beside the slider, on every screen: the photo's largest scale and which limit sets it ("" when the
    slider's own end is the limit)."""
    if most >= SCALE_MAX or most < 1:
        return ""
    if most >= max_scale(in_width, in_height):  # the output size decides, not the work
        why = f"outputs of up to {fmt.megapixels(max_output_pixels())}"
    else:
        budget = budget_seconds(speed) if speed is not None else page_model_seconds()
        why = f"about {budget:.0f} s of computing on this server"
    return f"**Up to ×{most:g}** for this {in_width}×{in_height} photo with this model ({why})."


def capped_text(asked: float, most: float, in_width: int, in_height: int, speed: Speed | None = None) -> str:
    """When a typed scale is past the photo's largest: that the box now holds the largest, and why."""
    return (f"×{asked:g} is more than this page takes for this {in_width}×{in_height} photo, so the scale is "
            f"set to ×{most:g}. " + cap_text(in_width, in_height, most, speed))


def experiment_scale(choices, default, in_width: int, in_height: int, *speeds: Speed) -> int:
    """The scale an experiment's control starts at for a photo: `default` when the photo allows it, else the
    largest of `choices` below it whose renders (one per model speed) fit the output limit and the budget;
    the smallest choice when none does (its button then says why)."""
    budget = budget_seconds(*speeds) if speeds else math.inf
    pixels = encoded_pixels(in_width, in_height)

    def fits(scale) -> bool:
        out = sizes.output_size(in_width, in_height, scale=scale)
        return (out[0] * out[1] <= max_output_pixels()
                and sum(speed.seconds(pixels, out[0] * out[1]) for speed in speeds) <= budget)

    allowed = [scale for scale in choices if scale <= default and fits(scale)]
    return max(allowed) if allowed else min(choices)


def _refusal(in_w, in_h, out_w, out_h, speed) -> str | None:
    """Why the page refuses this request, in a sentence with no command-line advice; None if it does not."""
    try:
        sizes.check_output_size(in_w, in_h, out_w, out_h, max_pixels=max_output_pixels())
    except imageio.ImageInputError as exc:
        return str(exc)
    if speed is None:
        return None
    seconds = speed.seconds(encoded_pixels(in_w, in_h), out_w * out_h + MAGNIFIER_TILE**2)
    budget = budget_seconds(speed)
    if seconds <= budget:
        return None
    return (f"{out_w}×{out_h} from a {in_w}×{in_h} photo would take about {seconds:.0f} s of computing here; "
            f"this page takes requests of up to {budget:.0f} s")


def prepare(source, scale=None, target_width=0, target_height=0, stretch=False, speed: Speed | None = None) -> Request:
    """Read the upload and work out the output size: target width and/or height when given (0 means
    not given), otherwise the scale. Width and height together fit the photo inside that box, keeping
    its shape, unless `stretch`. `speed` (the model's, from ModelShelf.speed) adds the page's work limit.
    Raises ImageInputError with a sentence for the visitor."""
    if source is None or source == "":
        raise imageio.ImageInputError("upload a picture first (or click one of the examples)")
    loaded = imageio.load_image(source)
    out_w, out_h = output_size_for(loaded.width, loaded.height, scale, target_width, target_height, stretch, speed)
    name = Path(source).stem if isinstance(source, (str, os.PathLike)) else "image"
    return Request(loaded, out_w, out_h, name=re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "image")


def output_size_for(in_width: int, in_height: int, scale=None, target_width=0, target_height=0, stretch=False,
                    speed: Speed | None = None) -> tuple:
    """(out_width, out_height) the page makes of a photo of this size (see `prepare`), from the size alone,
    so the instant answers (the estimate) need no decode. Raises ImageInputError with a sentence."""
    width, height = _target(target_width, "width"), _target(target_height, "height")
    if width and height and not stretch:  # fit inside the box: the side that reaches it first decides
        width, height = (width, 0) if width * in_height <= height * in_width else (0, height)
    if width or height:
        box = {"size": (width, height)} if width and height else {"width": width} if width else {"height": height}
        out_w, out_h = sizes.output_size(in_width, in_height, **box)
    elif scale is None or scale == "":
        raise imageio.ImageInputError("choose a scale (a number greater than 0), or a target width or height")
    else:
        out_w, out_h = sizes.output_size(in_width, in_height, scale=scale)
    refusal = _refusal(in_width, in_height, out_w, out_h, speed)
    most = max_scale(in_width, in_height, speed)
    if refusal is None and not (width or height) and most and float(scale) > most + 1e-9:
        # Whole-pixel rounding can let a scale just past the stated largest one through (x22.1 at 64x64):
        # the page accepts what it says, no more.
        refusal = f"×{float(scale):g} is more than this page takes for a {in_width}×{in_height} photo"
    if refusal is not None:
        if most:
            advice = (f"the largest scale for this photo is ×{most:g}, and the magnifier (click an output) "
                      "shows any region at any zoom")
        else:
            w, h = shrunk_to_enlarge(in_width, in_height, speed)
            advice = f"this photo is too large for this page: shrink it to about {w}×{h} first"
        raise imageio.ImageInputError(f"{refusal}; {advice}")
    return out_w, out_h


def shrunk_to_enlarge(in_width: int, in_height: int, speed: Speed | None = None, scale: float = 2.0) -> tuple:
    """(width, height): the photo's shape at the size this page enlarges `scale` times (with `speed`, inside
    the work budget too), for advice to a visitor whose photo is too large."""
    pixels = max_output_pixels() / scale**2
    if speed is not None:
        per_pixel = speed.encoder_seconds_per_pixel + scale**2 * speed.decoder_seconds_per_pixel
        left = budget_seconds(speed) - MAGNIFIER_TILE**2 * speed.decoder_seconds_per_pixel
        pixels = min(pixels, max(0.0, left) / per_pixel)
    ratio = min(1.0, math.sqrt(pixels / (in_width * in_height)))
    return max(1, math.floor(in_width * ratio)), max(1, math.floor(in_height * ratio))


def cannot_enlarge_text(in_width: int, in_height: int, model_label: str, speed: Speed | None,
                        others: dict) -> str:
    """What the page can do with a photo it cannot enlarge with this model (the slider has no range
    then): another model's largest scale, if one fits, and the size to shrink it to. `others` maps each
    other model's label to its Speed."""
    budget = budget_seconds(speed) if speed is not None else page_model_seconds()
    words = [f"This {in_width}×{in_height} photo ({fmt.megapixels(in_width * in_height)}) is more than this page "
             f"enlarges with {model_label} (outputs up to {fmt.megapixels(max_output_pixels())}, about "
             f"{budget:.0f} s of computing)."]
    for other_label, other in others.items():
        most = max_scale(in_width, in_height, other)
        if most >= 1 + SCALE_STEP:
            words.append(f"{other_label} takes it up to ×{most:g}.")
    w, h = shrunk_to_enlarge(in_width, in_height, speed)
    words.append(f"Shrunk to about {w}×{h} it can be enlarged ×2 with {model_label}.")
    return " ".join(words)


def _target(value, what: str) -> int:
    """A target width or height from the page: 0 or empty means not given."""
    if value is None or value == "" or value == 0:
        return 0
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise imageio.ImageInputError(f"the target {what} must be a number of pixels") from None
    if not math.isfinite(number) or number < 0:
        raise imageio.ImageInputError(f"the target {what} must be 0 (use the scale) or a number of pixels")
    return sizes.output_size(1, 1, **{what: round(number) or 1})[0 if what == "width" else 1]


def estimate_text(shelf, model_name, in_size: tuple, out_size: tuple) -> str:
    """A sentence for the page before a run of in_size -> out_size ((width, height) each), when the run will
    take more than SLOW_RUN_SECONDS (else "")."""
    (in_w, in_h), (out_w, out_h) = in_size, out_size
    speed = shelf.measured_speed(model_name)  # the engine's, as refusals use it
    seconds = None if speed is None else speed.seconds(encoded_pixels(in_w, in_h), out_w * out_h)
    if seconds is None or seconds <= SLOW_RUN_SECONDS:
        return ""
    precision = shelf.upscaler(model_name).precision
    return (f"This will take about {fmt.duration(seconds)} here ({out_w}×{out_h} output "
            f"pixels in {precision}, at the speed measured on this machine). The picture fills in row by row "
            "meanwhile.")


def limits_text() -> str:
    out_limit, in_limit = max_output_pixels(), imageio.max_input_pixels()
    side = math.isqrt(out_limit)
    return (
        f"Outputs of up to {fmt.megapixels(out_limit)} (e.g. {side}×{side}) and inputs of up to "
        f"{fmt.megapixels(in_limit)}, and no request that would take this server more than about "
        f"{page_model_seconds():.0f} s (×{FLOOR_SCALE} of a photo up to {FLOOR_SIDE}×{FLOOR_SIDE} is always taken): "
        "the slider stops at the largest scale your photo allows. To look "
        "closer than that, click an output: the magnifier renders any region at any zoom."
    )
