"""The continuous zoom movie: from the whole picture down to a few input pixels, LIIF at every frame.

    from liif.lessons.zoom import zoom_movie
    movie = zoom_movie(engine, load_image("photo.png"), centre=(30, 24), zoom=32, frames=40,
                       path="zoom.webp")           # an animated WebP: bicubic | LIIF, side by side

This is the one thing a fixed-scale upscaler cannot do: each frame asks the same continuous image for
a different rectangle at a new resolution (`Upscaler.render_region`); nothing is cut from a larger
render and enlarged. The encoder runs once (its result is cached); each frame costs only the decoder.

The zoom is a pure scaling about one fixed point, the way a camera zooms: frame k shows the box
p + (whole picture - p) / z_k with z_k rising geometrically from 1 to `zoom`, and p chosen so that the
last box is centred on `centre` (moved inside the picture where needed). The first frame is therefore
exactly the whole-picture render, and the last exactly the render of the final box.
"""

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from liif.core import fmt
from liif.lessons import experiment, explain
from liif.render import imageio, pictures
from liif.render import sheet as sheet_drawer
from liif.render.pictures import flatten_image
from liif.render.upscale import bicubic_image

DEFAULT_ZOOM = 32.0
DEFAULT_FRAMES = 36  # the fewest that still look smooth at ×32 (each step ×1.1): the decoder's cost is per frame
DEFAULT_SIZE = 256  # each panel's short side, in pixels
MIN_FRAMES, MAX_FRAMES = 2, 120
MAX_SIZE = 512
MAX_ASPECT = 3.0  # a panorama would make frames too wide to play smoothly
# Under a compute limit (a public page), a movie gives up frames first, then panel size, down to these: a
# few frames that can be read rather than many that cannot (issue 34: 12 frames of 108 had every caption cut).
FEWEST_FITTING_FRAMES, SMALLEST_FITTING_SIZE = 8, 128
# Panels smaller than this are shown with each of their pixels as a square of whole screen pixels (nearest
# neighbour, nothing invented), so a movie made small to fit is still seen at a readable size.
SHOWN_PANEL = 256
CAPTION_SIZE = 20  # the caption above the panels and their tags: a 390 px phone shows it at about 11.5 px
GAP = 4
# Milliseconds each frame is shown: a pause on the whole picture and a longer one on the closest view; the
# frames between share MIDDLE_MS (at least FRAME_MS each), so a movie of fewer frames lasts as long.
FIRST_FRAME_MS, FRAME_MS, LAST_FRAME_MS = 700, 90, 1500
MIDDLE_MS = FRAME_MS * (DEFAULT_FRAMES - 2)
WEBP_QUALITY = 85  # lossy, so a 40-frame movie stays a few MB; the PNG download is the lossless record


@dataclass
class ZoomMovie:
    boxes: list  # (x0, y0, x1, y1) per frame, in input pixels
    zooms: list  # how many times closer than the whole picture, per frame
    liif: list = field(repr=False)  # (h, w, 3) uint8 per frame
    bicubic: list = field(repr=False)
    added: list = field(default_factory=list)  # mean |LIIF - bicubic| per frame, in levels of 255
    path: Path | None = None  # the animated WebP, if one was written
    seconds: float = 0.0
    render_seconds: float = 0.0
    fitted: str = ""  # how the movie was made smaller to fit a compute limit, if it was

    @property
    def frame_size(self) -> tuple:
        h, w = self.liif[0].shape[:2]
        return w, h

    def markdown(self) -> str:
        """What this movie shows, in its own numbers: how much LIIF differs from bicubic as the zoom grows."""
        w, h = self.frame_size
        peak = int(np.argmax(self.added))
        x0, _, x1, _ = self.boxes[-1]
        across = f"{fmt.plural(f'{x1 - x0:.3g}', 'input pixel')} across"
        last = "" if peak == len(self.added) - 1 else f"; at ×{self.zooms[-1]:.3g}, by {self.added[-1]:.1f}"
        shown = max(1, round(SHOWN_PANEL / min(w, h)))
        enlarged = f" (shown {shown}× larger, each pixel a square)" if shown > 1 else ""
        text = (
            f"**{len(self.liif)} frames** of {w}×{h} per method{enlarged}, from the whole picture to ×{self.zooms[-1]:.3g} "
            f"({across}), each rendered by LIIF at its own resolution, in "
            f"{fmt.seconds(self.seconds)}. LIIF (right) differs most from bicubic (left) at "
            f"×{self.zooms[peak]:.3g}, by {self.added[peak]:.1f} levels on average{last}.")
        if self.added[-1] < self.added[peak] / 2:
            text += (" Close up the two nearly agree: inside one input pixel nothing was recorded but its average, "
                     "so there is nothing left to sharpen, only to guess.")
        if self.fitted:
            text += f" {self.fitted}"
        return text

    def summary(self) -> dict:
        w, h = self.frame_size
        return {"frames": len(self.liif), "frame_width": w, "frame_height": h, "zoom": self.zooms[-1],
                "first_box": list(self.boxes[0]), "last_box": list(self.boxes[-1]), "seconds": self.seconds,
                "render_seconds": self.render_seconds, "added_levels": self.added,
                "file": str(self.path) if self.path else None}


def zoom_boxes(width: int, height: int, centre=None, zoom=DEFAULT_ZOOM, frames=DEFAULT_FRAMES) -> tuple:
    """(boxes, zooms) of a zoom from the whole width x height picture to a box `zoom` times smaller
    around `centre` = (x, y) in input pixels (default: the middle)."""
    zoom, frames = float(zoom), int(frames)
    side_w, side_h = width / zoom, height / zoom
    # The final box, kept inside the picture; then the fixed point p whose zoom ends on that box.
    x0_end, y0_end, _, _ = pictures.box_around(centre, (side_w, side_h), width, height)
    px, py = x0_end / (1 - 1 / zoom), y0_end / (1 - 1 / zoom)
    zooms = [zoom ** (k / (frames - 1)) for k in range(frames)]
    boxes = []
    for z in zooms:
        boxes.append((px - px / z, py - py / z, px + (width - px) / z, py + (height - py) / z))
    boxes[0], boxes[-1] = (0.0, 0.0, float(width), float(height)), (x0_end, y0_end, x0_end + side_w, y0_end + side_h)
    return boxes, zooms


def check_zoom(width: int, height: int, zoom, frames, size) -> tuple:
    """The options, checked: (zoom, frames, size); ImageInputError with one sentence if one is unusable."""
    try:
        zoom, frames, size = float(zoom), int(frames), int(size)
    except (TypeError, ValueError):
        raise imageio.ImageInputError("the zoom, the number of frames and the frame size must be numbers") from None
    if not 1 < zoom <= min(width, height):
        raise imageio.ImageInputError(
            f"the zoom must be more than 1 and at most {min(width, height)} for a {width}×{height} picture "
            f"(the last frame shows at least one input pixel), not {zoom:g}")
    if not MIN_FRAMES <= frames <= MAX_FRAMES:
        raise imageio.ImageInputError(f"a zoom movie has {MIN_FRAMES} to {MAX_FRAMES} frames, not {frames}")
    if not 16 <= size <= MAX_SIZE:
        raise imageio.ImageInputError(f"the frame size must be 16 to {MAX_SIZE} pixels, not {size}")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise imageio.ImageInputError(
            f"a {width}×{height} picture is too long and thin for the zoom movie (at most {MAX_ASPECT:g}:1)")
    return zoom, frames, size


def check_centre(centre, width: int, height: int):
    """The centre as two finite numbers inside the picture (None stays None: the middle)."""
    if centre is None:
        return None
    try:
        x, y = (float(v) for v in centre)
    except (TypeError, ValueError):
        raise imageio.ImageInputError("the zoom's centre must be two numbers, x and y in input pixels") from None
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= width and 0 <= y <= height):
        raise imageio.ImageInputError(
            f"the zoom's centre must be inside the {width}×{height} picture (x from 0 to {width}, y from 0 to "
            f"{height}), not ({x:g}, {y:g})")
    return x, y


def panel_size(width: int, height: int, size: int) -> tuple:
    """(w, h) of one panel: the picture's shape with `size` pixels on the short side."""
    return round(size * width / min(width, height)), round(size * height / min(width, height))


def movie_seconds(width: int, height: int, frames: int, size: int, speed) -> float:
    """The model's compute for a movie: one encoding of the picture, and every frame's decoder pixels."""
    out_w, out_h = panel_size(width, height, size)
    return speed.seconds(width * height, frames * out_w * out_h)


def fit_to_budget(width: int, height: int, frames: int, size: int, speed, max_seconds: float) -> tuple:
    """(frames, size, note): the movie as asked if its compute fits in `max_seconds`, else with fewer frames
    (down to FEWEST_FITTING_FRAMES), then smaller panels (down to SMALLEST_FITTING_SIZE), with a sentence
    saying so. ImageInputError, saying what would fit, when even the smallest movie is over the limit."""
    asked = (frames, size)
    while movie_seconds(width, height, frames, size, speed) > max_seconds:
        if frames > FEWEST_FITTING_FRAMES:
            frames = max(FEWEST_FITTING_FRAMES, frames * 2 // 3)
        elif size > SMALLEST_FITTING_SIZE:
            size = max(SMALLEST_FITTING_SIZE, size * 3 // 4)
        else:
            cost = (f"take about {movie_seconds(width, height, frames, size, speed):.0f} s of computing here "
                    f"({speed.seconds(width * height, 0):.0f} s of it to encode the picture once)")
            shrink = "Shrink the picture to about {side}×{side} pixels, or zoom into a smaller crop of it"
            raise experiment.too_much("a zoom movie", width, height, cost, max_seconds, speed, shrink)
    if (frames, size) == asked:
        return frames, size, ""
    return frames, size, (f"To stay within this server's limit of {max_seconds:.0f} s of computing, the movie has "
                          f"{frames} frames of {size} pixels (asked: {asked[0]} of {asked[1]}).")


def zoom_movie(upscaler, loaded: imageio.LoadedImage, centre=None, zoom=DEFAULT_ZOOM, frames=None, size=None,
               path=None, progress=None, speed=None, max_seconds=None) -> ZoomMovie:
    """Render the zoom (LIIF and bicubic per frame) and, if `path` is given, write it as an animated WebP.

    Panels keep the picture's shape, with `size` pixels (default DEFAULT_SIZE) on the short side;
    `frames` defaults to DEFAULT_FRAMES. `progress(fraction, text)`, if given, is called after each frame.
    With `speed` (the model's measured Speed) and `max_seconds`, the movie is planned to fit that compute
    before anything is rendered (fewer frames, smaller panels, or a refusal): see fit_to_budget.
    """
    start = time.perf_counter()
    w, h = loaded.width, loaded.height
    frames = DEFAULT_FRAMES if frames is None else frames
    size = DEFAULT_SIZE if size is None else size
    zoom, frames, size = check_zoom(w, h, zoom, frames, size)
    centre = check_centre(centre, w, h)
    fitted = ""
    if speed is not None and max_seconds is not None:
        frames, size, fitted = fit_to_budget(w, h, frames, size, speed, max_seconds)
    out_w, out_h = panel_size(w, h, size)
    boxes, zooms = zoom_boxes(w, h, centre, zoom, frames)
    image01 = imageio.to_tensor(loaded.rgb)
    movie = ZoomMovie(boxes, zooms, [], [], fitted=fitted)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        out = upscaler.render_region(image01, (y0, x0, y1, x1), (out_h, out_w))
        box = (x0, y0, x1, y1)
        movie.liif.append(flatten_image(imageio.compose_output(imageio.to_uint8(out), loaded, box=box)))
        movie.bicubic.append(flatten_image(bicubic_image(loaded, out_w, out_h, region=box)))
        movie.added.append(explain.added_detail(movie.liif[-1], movie.bicubic[-1])[1])
        if progress is not None:
            progress((k + 1) / frames, f"frame {k + 1} of {frames}, ×{zooms[k]:.1f}")
    movie.render_seconds = time.perf_counter() - start
    if path is not None:
        movie.path = write_webp(movie, path, (w, h))
    movie.seconds = time.perf_counter() - start
    return movie


def frame_caption(movie: ZoomMovie, k: int, picture_size: tuple) -> str:
    """What frame k shows: how close it is and how many input pixels it spans."""
    x0, _, x1, _ = movie.boxes[k]
    return f"×{movie.zooms[k]:.1f}: {x1 - x0:.3g} of {picture_size[0]} input pixels across"


def frame_layout(movie: ZoomMovie, picture_size: tuple) -> tuple:
    """(how many screen pixels each panel pixel is shown as, the caption's height above the panels): one for
    every frame, so that the frames are the same size and every caption fits whole."""
    w, h = movie.frame_size
    shown = max(1, round(SHOWN_PANEL / min(w, h)))
    font = sheet_drawer.font(CAPTION_SIZE)
    lines = max(len(sheet_drawer.wrap(frame_caption(movie, k, picture_size), font, 2 * w * shown + GAP - 8))
                for k in range(len(movie.liif)))
    return shown, 8 + lines * (CAPTION_SIZE + 5)


def frame_picture(movie: ZoomMovie, k: int, picture_size: tuple, layout=None) -> np.ndarray:
    """Frame k as shown: bicubic | LIIF side by side, each tagged, under a caption saying how close it is."""
    shown, top = layout or frame_layout(movie, picture_size)
    panels = []
    for rgb, tag, right in ((movie.bicubic[k], "bicubic", False), (movie.liif[k], "LIIF", True)):
        enlarged = np.repeat(np.repeat(rgb, shown, axis=0), shown, axis=1)
        panels.append(pictures.label(enlarged, tag, right=right, size=CAPTION_SIZE))
    h, w = panels[0].shape[:2]
    sheet = Image.new("RGB", (2 * w + GAP, h + top), "white")
    sheet.paste(Image.fromarray(panels[0]), (0, top))
    sheet.paste(Image.fromarray(panels[1]), (w + GAP, top))
    draw, font = ImageDraw.Draw(sheet), sheet_drawer.font(CAPTION_SIZE)
    for j, line in enumerate(sheet_drawer.wrap(frame_caption(movie, k, picture_size), font, sheet.width - 8)):
        draw.text((4, 4 + j * (CAPTION_SIZE + 5)), line, fill="black", font=font)
    return np.asarray(sheet)


def write_webp(movie: ZoomMovie, path, picture_size: tuple) -> Path:
    """The frames as an animated WebP that loops; browsers play it in an <img>."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    layout = frame_layout(movie, picture_size)
    frames = [Image.fromarray(frame_picture(movie, k, picture_size, layout)) for k in range(len(movie.liif))]
    middle = max(FRAME_MS, round(MIDDLE_MS / max(1, len(frames) - 2)))
    durations = [middle] * len(frames)
    durations[0], durations[-1] = FIRST_FRAME_MS, LAST_FRAME_MS
    frames[0].save(path, format="WEBP", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   quality=WEBP_QUALITY, method=0)
    return path


def _least_seconds(speeds, values) -> float:
    """The cheapest movie this picture allows (fit_to_budget gives up frames, then panel size, to fit)."""
    width, height = experiment.picture_size(values["picture"])
    frames = min(int(values.get("frames") or DEFAULT_FRAMES), FEWEST_FITTING_FRAMES)
    size = min(int(values.get("size") or DEFAULT_SIZE), SMALLEST_FITTING_SIZE)
    return movie_seconds(width, height, frames, size, speeds["model"])


def _run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None) -> experiment.Outcome:
    upscaler = models["model"][1]
    movie = zoom_movie(upscaler, experiment.loaded_picture(values["picture"]), values.get("centre"),
                       values.get("zoom", DEFAULT_ZOOM), values.get("frames"), values.get("size"), path=out_path,
                       progress=progress, speed=speeds and speeds["model"], max_seconds=max_seconds)
    w, h = movie.frame_size
    return experiment.Outcome(movie.summary(), movie.markdown(), file=movie.path,
                              line=f"{len(movie.liif)} frames of {w}×{h} per method, ×{movie.zooms[-1]:.3g} at the end; "
                                   f"{movie.render_seconds:.1f} s rendering, {movie.seconds:.1f} s in all")


EXPERIMENT = experiment.register(experiment.Experiment(
    "zoom", "6a. Zoom movie: from the whole picture to a few pixels", "a zoom movie",
    help="render a continuous zoom into a picture as an animated WebP",
    description="Zoom from the whole picture down to a few input pixels around a point, LIIF rendered at every "
                "frame next to bicubic; writes an animated WebP.",
    inputs=(experiment.Field("picture", "picture"),
            experiment.Field("centre", "point", help="where the zoom ends, in input pixels (default: the middle)"),
            experiment.Field("zoom", "float", DEFAULT_ZOOM, help="how many times closer the last frame is"),
            # None: the lesson's defaults, DEFAULT_FRAMES and DEFAULT_SIZE, read when it runs
            experiment.Field("frames", "int", None, help=f"frames per method (default {DEFAULT_FRAMES})", cli_only=True),
            experiment.Field("size", "int", None, help=f"each panel's short side in pixels (default {DEFAULT_SIZE})",
                             cli_only=True)),
    estimate=_least_seconds, run=_run, suffix=".webp"))
