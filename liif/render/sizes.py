"""Output sizes and regions from what a person types: a scale, WxH, a width or a height, X0,Y0,X1,Y1.

    out_w, out_h = output_size(loaded.width, loaded.height, scale=4)   # or size=, width=, height=
    check_output_size(loaded.width, loaded.height, out_w, out_h)      # refuses what is over the limit
    box = check_region(parse_region("10,20,74,84"), loaded.width, loaded.height)

Every refusal is an `ImageInputError` with one sentence, however absurd the number (1e308, 5000 digits).
"""

import math

import numpy as np

from liif import settings
from liif.core.fmt import pixels_over_limit
from liif.render.imageio import ImageInputError, max_output_pixels

# The longest side a PNG can declare (its header holds 31-bit sizes); larger requests are refused as
# sizes, before any arithmetic on them can overflow.
MAX_SIDE = 2**31 - 1


def output_size(in_w, in_h, scale=None, size=None, width=None, height=None) -> tuple:
    """The output (width, height) from exactly one of: scale, size=(w, h) or "WxH", width, height.

    Width or height alone keeps the aspect ratio. `in_w`, `in_h` may be fractional (a region).
    """
    given = [name for name, v in (("scale", scale), ("size", size), ("width", width), ("height", height))
             if v is not None]
    if len(given) != 1:
        raise ImageInputError("give exactly one of scale, size, width or height" +
                              (f" (got {' and '.join(given)})" if given else ""))
    if scale is not None:
        scale = _positive(scale, "the scale")
        return _side(in_w * scale, f"x{scale:g}"), _side(in_h * scale, f"x{scale:g}")
    if size is not None:
        w, h = parse_size(size) if isinstance(size, str) else size
        return _whole(w, "the width"), _whole(h, "the height")
    if width is not None:
        width = _whole(width, "the width")
        return width, _side(in_h * (width / in_w), f"width {width}")
    height = _whole(height, "the height")
    return _side(in_w * (height / in_h), f"height {height}"), height


def stretched(in_w, in_h, out_w, out_h) -> bool:
    """The output's proportions differ from the input's beyond whole-pixel rounding: no one scale s makes
    both sides (rounded as output_size rounds them, at least 1). 64×48 at ×5.6 is 358×269, ×5.59 wide and
    ×5.6 tall, and not stretched; 64×48 to 358×300 is."""
    def scales(side_in, side_out) -> tuple:  # the scales that round side_in to side_out: [low, high)
        low = 0.0 if side_out <= 1 else (side_out - 0.5) / side_in
        return low, (side_out + 0.5) / side_in

    (low_w, high_w), (low_h, high_h) = scales(in_w, out_w), scales(in_h, out_h)
    return max(low_w, low_h) >= min(high_w, high_h)


def parse_size(text: str) -> tuple:
    """"640x480" (or 640×480, 640X480) -> (640, 480)."""
    parts = text.strip().lower().replace("×", "x").split("x")
    try:
        if len(parts) != 2:
            raise ValueError
        w, h = int(parts[0]), int(parts[1])
    except ValueError:
        raise ImageInputError(f"size must look like WIDTHxHEIGHT, e.g. 1920x1080, not {_short(text)}") from None
    return _whole(w, "the width"), _whole(h, "the height")


def _positive(value, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ImageInputError(f"{what} must be a number, not {_short(value)}") from None
    except OverflowError:  # an int with hundreds of digits
        raise ImageInputError(f"{what} is far too large") from None
    if not math.isfinite(value) or value <= 0:
        raise ImageInputError(f"{what} must be a finite number greater than 0, not {value:g}")
    return value


def _whole(value, what: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value) if len(value.strip()) <= 20 else MAX_SIDE + 1  # int() of 5000 digits raises
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ImageInputError(f"{what} must be a whole number of pixels, at least 1, not {_short(value)}")
    if value > MAX_SIDE:
        raise ImageInputError(f"{what} must be at most {MAX_SIDE:,} pixels (the largest a PNG can hold), "
                              f"not {_short(value)}")
    return int(value)


def _side(x: float, request: str) -> int:
    """A computed output side, rounded half up (not Python's half-to-even), refused beyond MAX_SIDE."""
    if not x <= MAX_SIDE:  # also inf and nan
        raise ImageInputError(f"{request} would make a side longer than {MAX_SIDE:,} pixels, "
                              "the largest a PNG can hold")
    return max(1, math.floor(x + 0.5))


def _short(value) -> str:
    """A value for a message, shortened: a number with hundreds of digits is not worth printing."""
    text = repr(value)
    return text if len(text) <= 24 else text[:12] + f"… ({len(text)} characters)"


def check_output_size(in_w, in_h, out_w, out_h, max_pixels=None, what="image") -> None:
    """Refuse outputs under 1 px or over the limit (default: $LIIF_MAX_OUTPUT_PIXELS or 36 MP).

    `what` names the input in the message: "image", or "region" for a region render.
    """
    limit = max_output_pixels(max_pixels)
    if out_w < 1 or out_h < 1:
        raise ImageInputError(f"the output would be {out_w}×{out_h} pixels; it must be at least 1×1")
    n = out_w * out_h
    if n <= limit:
        return
    said, said_limit = pixels_over_limit(n, limit)
    sx, sy = out_w / in_w, out_h / in_h
    if abs(sx - sy) <= 0.01 * max(sx, sy) or round(in_w * sy) == out_w or round(in_h * sx) == out_h:
        request = f"x{sx:.3g} of a {_dims(in_w, in_h)} {what} is {out_w}×{out_h}"
    else:
        request = f"{out_w}×{out_h} from a {_dims(in_w, in_h)} {what}"
    raise ImageInputError(
        f"{request} = {said}; the limit here is {said_limit}; choose a smaller scale",
        cli_hint=f"or render a part with --region, or raise the limit with --max-output-pixels or the "
                 f"{settings.MAX_OUTPUT_PIXELS} environment variable")


def _dims(w, h) -> str:
    return f"{w:g}×{h:g}" if isinstance(w, float) or isinstance(h, float) else f"{w}×{h}"


def parse_region(text: str) -> tuple:
    """"X0,Y0,X1,Y1" (input pixels, fractions allowed) -> a tuple of 4 floats; see `check_region`."""
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        box = tuple(float(part) for part in parts)
    except ValueError:
        raise ImageInputError(f"a region must be four numbers X0,Y0,X1,Y1, e.g. 10,20,74,84, not {text!r}") from None
    return box


def check_region(region, width: int, height: int) -> tuple:
    """A box (x0, y0, x1, y1) in input pixels, checked to lie inside a width x height image."""
    x0, y0, x1, y1 = (float(v) for v in region)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ImageInputError(f"the region {_box(region)} must be four finite numbers")
    if x1 <= x0 or y1 <= y0:
        raise ImageInputError(f"the region {_box(region)} is empty: X1 must exceed X0 and Y1 exceed Y0")
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise ImageInputError(f"the region {_box(region)} goes outside the {width}×{height} image")
    return x0, y0, x1, y1


def _box(region) -> str:
    return ",".join(f"{float(v):g}" for v in region)
