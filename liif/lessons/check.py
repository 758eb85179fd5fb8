"""Check against the real photo: is what LIIF drew the real detail, or only a convincing one?

    from liif.lessons.check import check, original_path
    result = check(engine, original_path("astronaut"), scale=8)      # or any photo of your own
    result.psnr, result.ssim, result.sentences, result.share_image()

A photo is shrunk by the scale the way the training inputs were made (antialiased bicubic,
`pictures.shrink`), the tiny version is brought back with bicubic and with LIIF, and both are measured
against the photo itself. Nothing else on the page can say this: without the real photo, a sharp guess
and the truth look alike.

The picture is cut into input-pixel blocks (each block is what one tiny pixel stands for) of three kinds,
so the sentences can say *where* the model got closer:
- edges: the tiny input itself shows a boundary there (where it runs was observed);
- fine texture: the real photo varies inside the block, but the tiny input recorded only its average
  (hair, fabric, text: what cannot be recovered, only guessed);
- smooth: neither.
"""

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from liif.core import fmt
from liif.evaluation.metrics import psnr_y, rgb_to_y, ssim_y
from liif.lessons import originals
from liif.lessons.explain import HEAT_FULL_SCALE, added_detail
from liif.render import colormaps, imageio, pictures
from liif.render.pictures import shrink, side_by_side
from liif.render.sheet import Panel, sheet
from liif.render.upscale import bicubic_image, upscale_image

# The scales the check offers. Whole numbers, so the real photo is exactly `scale` times the tiny one.
SCALES = (2, 3, 4, 6, 8)
DEFAULT_SCALE = 8
# The tiny version's long side at most (the "working size"): a profile photo's size. A larger photo is
# first reduced (antialiased) to `scale` times this; that reduction is the real photo compared against.
DEFAULT_WORKING_SIZE = 64
MIN_TINY_SIDE = 8  # fewer input pixels than this a side leaves too little to compare
# LIIF should beat bicubic by at least this much against the real photo; the page says when it does not.
GOAL_DB = 0.3
# Block classes, in levels of 255 on the Y channel: a tiny-input gradient (levels per input pixel) at
# or above EDGE_LEVELS is an edge; a real-photo standard deviation inside one block at or above
# TEXTURE_LEVELS is detail finer than an input pixel.
EDGE_LEVELS = 12.0
TEXTURE_LEVELS = 6.0
# The closer/further map: a block's error difference at or beyond this many levels is drawn at full colour.
CLOSER_FULL_SCALE = 8.0
SHARE_PANEL_HEIGHT = 256
# The magnifier shows this many input pixels across, each tile this many screen pixels.
MAGNIFIER_INPUT_PIXELS = 8
MAGNIFIER_TILE = 256
MAGNIFIER_TOP = 40


@dataclass
class Kind:
    """One kind of block (edges, fine texture, smooth) and how both methods did there."""

    name: str
    share: float  # of all blocks
    bicubic_error: float  # mean |method - real| in levels, over the blocks of this kind
    liif_error: float
    liif_closer: float  # share of this kind's blocks where LIIF is closer than bicubic

    @property
    def error_removed(self) -> float:
        """The share of bicubic's error that LIIF removed here (negative: it added error)."""
        return 1 - self.liif_error / self.bicubic_error if self.bicubic_error > 0 else 0.0


@dataclass
class Check:
    scale: int
    tiny: np.ndarray  # (h, w, 3) uint8: what both methods were given
    bicubic: np.ndarray  # (H, W, 3) = (h * scale, w * scale, 3)
    liif: np.ndarray
    real: np.ndarray
    psnr: dict  # {"bicubic": dB, "liif": dB}, Y channel, `scale` pixels shaved per border
    ssim: dict
    kinds: list  # of Kind
    seconds: float = 0.0
    model_name: str = ""
    notices: list = field(default_factory=list)
    name: str = "photo"
    focus: tuple = (0.5, 0.5)  # where the magnifier starts, as fractions of width and height

    @property
    def gain_db(self) -> float:
        return self.psnr["liif"] - self.psnr["bicubic"]

    def closer_map(self) -> np.ndarray:
        """Per input-pixel block: orange where LIIF is closer to the real photo than bicubic, blue where
        it is further, grey where they tie."""
        return closer_map(self.bicubic, self.liif, self.real, self.scale)

    def error_maps_picture(self) -> np.ndarray:
        """Both error maps side by side over their one colour bar."""
        return error_maps_picture([self.bicubic, self.liif], self.real)

    def closer_picture(self) -> np.ndarray:
        return closer_picture(self.closer_map(), "LIIF")

    @property
    def tiny_enlarged(self) -> np.ndarray:
        """The tiny input blown up to the others' size, each of its pixels a square."""
        return np.repeat(np.repeat(self.tiny, self.scale, 0), self.scale, 1)

    def magnifier_box(self, centre=None) -> tuple:
        """MAGNIFIER_INPUT_PIXELS input pixels a side, in output pixels, around the output pixel centre = (x, y)
        (default: the photo's focus), kept inside the picture."""
        real_h, real_w = self.real.shape[:2]
        side = min(MAGNIFIER_INPUT_PIXELS * self.scale, real_w, real_h)
        cx, cy = ((self.focus[0] * real_w, self.focus[1] * real_h) if centre is None
                  else (centre[0] + 0.5, centre[1] + 0.5))
        return pictures.box_around((cx, cy), (side, side), real_w, real_h)

    def magnify(self, centre=None, tile: int = MAGNIFIER_TILE) -> tuple:
        """(2x2 picture: tiny input | bicubic / LIIF | real photo, box in output pixels) around the output
        pixel centre = (x, y) (default: the photo's focus)."""
        box = self.magnifier_box(centre)
        panels = ((self.tiny_enlarged, "input pixels"), (self.bicubic, "bicubic"), (self.liif, "LIIF"),
                  (self.real, "real photo"))
        return magnifier(panels, box, tile, columns=2), box

    @property
    def sentences(self) -> list:
        return findings(self)

    def markdown(self) -> str:
        rows = [("bicubic", self.psnr["bicubic"], self.ssim["bicubic"]), ("LIIF", self.psnr["liif"], self.ssim["liif"])]
        return report(rows, self, "; both methods brought that")

    def summary(self) -> dict:
        """The API's and the command line's JSON description."""
        h, w = self.tiny.shape[:2]
        return {
            "scale": self.scale, "tiny": {"width": w, "height": h},
            "real": {"width": w * self.scale, "height": h * self.scale},
            "psnr_y_db": self.psnr, "ssim_y": self.ssim, "liif_gain_db": self.gain_db,
            "goal_db": GOAL_DB, "goal_met": bool(self.gain_db >= GOAL_DB),
            "kinds": [{"name": k.name, "share": k.share, "bicubic_error_levels": k.bicubic_error,
                       "liif_error_levels": k.liif_error, "liif_closer_share": k.liif_closer} for k in self.kinds],
            "findings": self.sentences, "seconds": self.seconds, "model": self.model_name,
            "notices": list(self.notices),
        }

    def share_image(self) -> Image.Image:
        """tiny input | bicubic | LIIF | real photo, labelled, with the numbers as a caption: one PNG."""
        h, w = self.tiny.shape[:2]
        caption = (f"x{self.scale}: PSNR-Y against the real photo, bicubic {self.psnr['bicubic']:.2f} dB, "
                   f"LIIF {self.psnr['liif']:.2f} dB ({self.gain_db:+.2f} dB); SSIM-Y {self.ssim['bicubic']:.3f}"
                   f" and {self.ssim['liif']:.3f}.")
        panels = [Panel(self.tiny_enlarged, f"input {w}x{h} (each square one pixel)", pixels=True),
                  Panel(self.bicubic, "bicubic"), Panel(self.liif, "LIIF"), Panel(self.real, "the real photo")]
        return sheet(panels, min(SHARE_PANEL_HEIGHT * 2, self.real.shape[0]), caption,
                     f"LIIF Zoom, model {self.model_name or 'LIIF'}")


# -- the check -------------------------------------------------------------------------------------


def real_and_tiny(loaded: imageio.LoadedImage, scale: int, working_size: int = DEFAULT_WORKING_SIZE,
                  name: str = "the photo") -> tuple:
    """(real photo, tiny version) as uint8 RGB, the real one exactly `scale` times the tiny one.

    A photo larger than `scale` x the working size is first reduced to that (antialiased bicubic, from a
    centre crop of the tiny version's shape); otherwise it is cut to a multiple of `scale`, centred.
    """
    scale = check_scale(scale)
    w, h = loaded.width, loaded.height
    tiny_w, tiny_h = w // scale, h // scale
    if min(tiny_w, tiny_h) < MIN_TINY_SIDE:
        need = MIN_TINY_SIDE * scale
        raise imageio.ImageInputError(
            f"{name} is {w}×{h}; a check at ×{scale} needs at least {need}×{need} pixels so that its tiny "
            f"version keeps {MIN_TINY_SIDE} pixels a side: choose a smaller scale or a larger photo")
    rgb = pictures.flatten(loaded.rgb, loaded.alpha)
    reduce = max(tiny_w, tiny_h) > working_size
    if reduce:
        factor = working_size / max(tiny_w, tiny_h)
        tiny_w, tiny_h = max(MIN_TINY_SIDE, round(tiny_w * factor)), max(MIN_TINY_SIDE, round(tiny_h * factor))
    real_w, real_h = tiny_w * scale, tiny_h * scale
    if reduce:  # the largest centred crop of the real photo's shape, then the antialiased reduction
        rgb = centre_fit(rgb, real_w, real_h)
        real = shrink(rgb, real_w, real_h) if rgb.shape[:2] != (real_h, real_w) else rgb
    else:
        real = _centre_crop(rgb, real_w, real_h)
    return np.ascontiguousarray(real), shrink(real, tiny_w, tiny_h)


def check(upscaler, source, scale=DEFAULT_SCALE, working_size=DEFAULT_WORKING_SIZE, progress=None,
          model_name: str = "", name: str | None = None) -> Check:
    """Shrink `source` (a path, bytes, array or PIL image) by `scale`, bring it back with bicubic and LIIF,
    and measure both against it. Bad input raises `imageio.ImageInputError` with one sentence.

    `progress(fraction)`, if given, follows the LIIF render. (`check_jpeg.check_jpeg` does the same with the
    tiny version saved as a JPEG first, and a second model.)
    """
    start = time.perf_counter()
    loaded, real, tiny = load_real_and_tiny(source, scale, working_size, name)
    result = measure(upscaler, source, real, tiny, int(scale), progress=progress, model_name=model_name,
                     notices=loaded.notices)
    result.seconds = time.perf_counter() - start
    return result


def load_real_and_tiny(source, scale, working_size=DEFAULT_WORKING_SIZE, name: str | None = None) -> tuple:
    """(the loaded photo, real photo, tiny version) for a check; bad input raises ImageInputError."""
    if source is None or (isinstance(source, str) and not source):
        raise imageio.ImageInputError("choose one of the shipped photos or upload a photo of your own first")
    working_size = int(working_size)
    if working_size < MIN_TINY_SIDE:
        raise imageio.ImageInputError(f"the working size must be at least {MIN_TINY_SIDE} pixels, not {working_size}")
    loaded = imageio.load_image(source)
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the photo")
    return (loaded, *real_and_tiny(loaded, scale, working_size, name=label))


def measure(upscaler, source, real, tiny, scale: int, progress=None, model_name: str = "", notices=(),
            bicubic=None) -> Check:
    """Bring `tiny` back to the real photo's size with bicubic (unless given) and with the model, and
    measure both against `real`."""
    tiny_loaded = imageio.load_image(tiny)
    real_h, real_w = real.shape[:2]
    if bicubic is None:
        bicubic = np.asarray(bicubic_image(tiny_loaded, real_w, real_h).convert("RGB"))
    liif = np.asarray(upscale_image(upscaler, tiny_loaded, real_w, real_h, progress=progress).convert("RGB"))
    return Check(
        scale=scale, tiny=tiny, bicubic=bicubic, liif=liif, real=real,
        psnr={"bicubic": psnr_y(bicubic, real, shave=scale), "liif": psnr_y(liif, real, shave=scale)},
        ssim={"bicubic": ssim_y(bicubic, real, shave=scale), "liif": ssim_y(liif, real, shave=scale)},
        kinds=block_kinds(tiny, bicubic, liif, real, scale),
        model_name=model_name, notices=list(notices),
        name=Path(str(source)).stem if isinstance(source, (str, Path)) else "photo",
        focus=originals.shipped_focus(source),
    )


def check_scale(scale, works: str = "the check works") -> int:
    """`scale` as one of SCALES; else one sentence: what `works` at which scales."""
    try:
        value = float(scale)
    except (TypeError, ValueError):
        value = math.nan
    if not value.is_integer() or int(value) not in SCALES:
        offered = ", ".join(f"×{s}" for s in SCALES)
        raise imageio.ImageInputError(f"{works} at the scales {offered}, not {scale!r}")
    return int(value)


# -- where it got closer ---------------------------------------------------------------------------


def block_kinds(tiny, bicubic, liif, real, scale: int) -> list:
    """Edges, fine texture and smooth blocks (one block per tiny pixel) and each method's error there."""
    tiny_y = rgb_to_y(tiny)
    gy, gx = np.gradient(tiny_y)
    edge = np.hypot(gx, gy) >= EDGE_LEVELS
    real_y = rgb_to_y(real)
    h, w = tiny.shape[:2]
    spread = real_y.reshape(h, scale, w, scale).std(axis=(1, 3))
    texture = ~edge & (spread >= TEXTURE_LEVELS)
    smooth = ~edge & ~texture
    bicubic_error = _block_mean(_abs_error(bicubic, real), scale)
    liif_error = _block_mean(_abs_error(liif, real), scale)
    kinds = []
    for name, mask in (("edges", edge), ("fine texture", texture), ("smooth", smooth)):
        if not mask.any():
            continue
        kinds.append(Kind(name, float(mask.mean()), float(bicubic_error[mask].mean()),
                          float(liif_error[mask].mean()), float((liif_error[mask] < bicubic_error[mask]).mean())))
    return kinds


def findings(result: Check) -> list:
    """Two to four sentences, each from this check's own numbers."""
    sentences = []
    gain = result.gain_db
    if gain >= GOAL_DB:
        sentences.append(f"**Overall** LIIF is **{gain:.2f} dB closer** to the real photo than bicubic (PSNR-Y).")
    elif gain > 0:
        sentences.append(f"**Overall** LIIF is only **{gain:.2f} dB** closer to the real photo than bicubic here, "
                         f"less than the {GOAL_DB} dB this page aims for: on this photo it adds little that is true.")
    else:
        sentences.append(f"**Overall** LIIF is **{-gain:.2f} dB further** from the real photo than bicubic here: "
                         "what it added is, on balance, not what was there.")
    kinds = {k.name: k for k in result.kinds}
    if "edges" in kinds:
        k = kinds["edges"]
        verb = "removed" if k.error_removed >= 0 else "added"
        sentences.append(
            f"**Edges** ({fmt.percent(k.share)} of the picture, where the tiny input itself shows a boundary): LIIF "
            f"was {k.liif_error:.1f} levels off on average, bicubic {k.bicubic_error:.1f}; LIIF {verb} "
            f"{abs(k.error_removed):.0%} of bicubic's error and was closer in {fmt.percent(k.liif_closer)} of these "
            "blocks. Where an edge runs was observed; how a sharp edge looks was learned, and that carries over.")
    if "fine texture" in kinds:
        k = kinds["fine texture"]
        sentences.append(
            f"**Fine texture** ({fmt.percent(k.share)} of the picture: hair, fabric, text, anything finer than one "
            f"input pixel): LIIF was still {k.liif_error:.1f} levels off, against bicubic's {k.bicubic_error:.1f} "
            f"({_signed_share(k.error_removed)} of the error), closer in {fmt.percent(k.liif_closer)} of these blocks. "
            "The tiny input kept only each block's average there, so the detail LIIF drew is a guess at what "
            "is typical, not the real detail: this is how an upscale can look like a photo without being this one.")
    if "smooth" in kinds:
        k = kinds["smooth"]
        sentences.append(
            f"**Smooth areas** ({fmt.percent(k.share)}): {k.liif_error:.1f} levels off for LIIF, "
            f"{k.bicubic_error:.1f} for bicubic; little had to be inferred there.")
    return sentences


# -- what both checks draw (this one and liif/lessons/check_jpeg.py's) ---------------------------------


def report(rows, result, brought_back: str) -> str:
    """The words of a check: the (method, PSNR-Y dB, SSIM-Y) rows as a table, how the tiny version was made
    and `brought_back` ("; both methods brought that"), then the findings."""
    table = "| against the real photo | PSNR-Y | SSIM-Y |\n| --- | --- | --- |\n" + "".join(
        f"| {what} | {db:.2f} dB | {ssim:.3f} |\n" for what, db, ssim in rows)
    (h, w), scale = result.tiny.shape[:2], result.scale
    how = (f"The real photo ({w * scale}×{h * scale}) was shrunk ×{scale} to {w}×{h}, the way the model's training "
           f"inputs were made{brought_back} back to {w * scale}×{h * scale}. Y channel, {scale} pixels left out at "
           f"each border (the paper's protocol); {fmt.seconds(result.seconds)}.")
    return "\n\n".join([table, how, "\n".join(f"- {s}" for s in result.sentences)])


def error_maps_picture(pictures_: list, real: np.ndarray) -> np.ndarray:
    """|picture - real| for each picture, side by side on one colour scale, over its colour bar."""
    maps = [added_detail(rgb, real)[0] for rgb in pictures_]
    bar = colormaps.colour_bar(colormaps.sequential, "0 (exact)", f"{HEAT_FULL_SCALE:.0f}+ levels off")
    return colormaps.over_bar(side_by_side(*maps, gap=4), bar)


def closer_map(further: np.ndarray, closer: np.ndarray, real: np.ndarray, scale: int) -> np.ndarray:
    """Per input-pixel block: orange where `closer` is closer to the real photo than `further`, blue where it
    is further, grey where they tie."""
    gain = _block_mean(_abs_error(further, real) - _abs_error(closer, real), scale)
    return np.repeat(np.repeat(colormaps.diverging(gain / CLOSER_FULL_SCALE), scale, 0), scale, 1)


def closer_picture(shown: np.ndarray, what: str) -> np.ndarray:
    """A closer map over its colour bar, which says whose map it is ("LIIF closer")."""
    bar = colormaps.colour_bar(colormaps.diverging, f"{what} further", f"{what} closer", middle_label="same",
                               diverging_range=True)
    return colormaps.over_bar(shown, bar)


def magnifier(panels, box: tuple, tile: int, columns: int) -> np.ndarray:
    """Each panel's `box`, enlarged to `tile` pixels a side and labelled, `columns` a row (the last filled with
    white), under a white band that the page draws the picture's label over. The same pixels as the panels:
    the real photo has no finer detail to show, so nothing here is rendered anew."""
    tiles = [pictures.label(pictures.nearest_region(rgb, box, tile), text) for rgb, text in panels]
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % columns)
    rows = [side_by_side(*tiles[i : i + columns], gap=4) for i in range(0, len(tiles), columns)]
    gap = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    grid = np.concatenate([part for row in rows for part in (gap, row)][1:])
    return np.concatenate([np.full((MAGNIFIER_TOP, grid.shape[1], 3), 255, np.uint8), grid])


# -- helpers ---------------------------------------------------------------------------------------


def _abs_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| per pixel, averaged over the colour channels, in levels of 255."""
    return np.abs(a.astype(np.float64) - b.astype(np.float64)).mean(axis=-1)


def _block_mean(values: np.ndarray, scale: int) -> np.ndarray:
    h, w = values.shape[0] // scale, values.shape[1] // scale
    return values.reshape(h, scale, w, scale).mean(axis=(1, 3))


def _centre_crop(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    top, left = (rgb.shape[0] - height) // 2, (rgb.shape[1] - width) // 2
    return rgb[top : top + height, left : left + width]


def centre_fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The largest centred crop of `rgb` with the shape width : height."""
    h, w = rgb.shape[:2]
    return _centre_crop(rgb, min(w, round(h * width / height)), min(h, round(w * height / width)))


def _signed_share(fraction: float) -> str:
    return f"{fraction:.0%} less" if fraction >= 0 else f"{-fraction:.0%} more"
