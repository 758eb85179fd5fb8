"""Check against the real photo, with the tiny version saved as a JPEG first, as a thumbnail found on the web
would be: the photo model and the model trained on compressed inputs, on the very same JPEG.

    from liif.lessons.check_jpeg import check_jpeg
    from liif.lessons.originals import original_path
    result = check_jpeg(engine, original_path("astronaut"), scale=8, quality=50, second=jpeg_engine)
    result.psnr, result.sentences, result.summary()

The photo is shrunk exactly as in the plain check (`check.load_real_and_tiny`); the tiny version then goes
through `liif.core.degrade.jpeg_roundtrip`, the function the benchmark (`python -m liif eval --jpeg-quality
Q`) and the training (`python -m liif train --jpeg-quality 30-95`) use, and bicubic and each model bring that
one compressed picture back. A JPEG is stored in 8x8 blocks, each compressed on its own: a model trained on
clean photos never saw their edges, so it takes them for detail and sharpens them.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from liif.core.degrade import jpeg_roundtrip
from liif.evaluation.metrics import psnr_y, rgb_to_y
from liif.lessons import check as plain
from liif.render import imageio
from liif.render.sheet import Panel, sheet
from liif.render.upscale import bicubic_image

JPEG_QUALITIES = (95, 75, 50)  # what the page offers; the library takes any quality from 1 to 95
BLOCK = 8  # a JPEG's blocks, in pixels of the picture it stores (the tiny version)
JPEG_MODEL = "edsr-baseline-jpeg"  # the shipped model trained on compressed inputs
TIE_DB = 0.01  # two models this close in PSNR-Y are said to come out the same


@dataclass
class JpegCheck:
    """The check of one JPEG tiny version: `photo` is the photo model's plain `Check` on it (its `tiny` is
    the JPEG), `jpeg` the JPEG-trained model's on the same tiny, bicubic and real arrays (None when none
    is available)."""

    quality: int
    clean_tiny: np.ndarray  # (h, w, 3) uint8: the tiny version before the JPEG
    photo: plain.Check
    jpeg: plain.Check | None = None
    photo_jpeg_trained: bool = False  # the photo model's own training record has jpeg_inputs
    clean_bicubic_psnr: float = 0.0  # bicubic from the clean tiny: what the JPEG cost
    seconds: float = 0.0
    notices: list = field(default_factory=list)

    # What the plain check's page code reads, from the photo model's check.
    scale = property(lambda self: self.photo.scale)
    tiny = property(lambda self: self.photo.tiny)
    bicubic = property(lambda self: self.photo.bicubic)
    liif = property(lambda self: self.photo.liif)
    real = property(lambda self: self.photo.real)
    name = property(lambda self: self.photo.name)
    focus = property(lambda self: self.photo.focus)
    tiny_enlarged = property(lambda self: self.photo.tiny_enlarged)

    @property
    def models(self) -> list:
        """(label, Check) for each model that ran on the JPEG, the photo model first."""
        return [(self.photo.model_name or "LIIF", self.photo)] + (
            [(self.jpeg.model_name or "the JPEG-trained model", self.jpeg)] if self.jpeg is not None else [])

    @property
    def psnr(self) -> dict:
        """{"bicubic", "photo_model", "jpeg_model" (None when not available)}: dB against the real photo."""
        return {"bicubic": self.photo.psnr["bicubic"], "photo_model": self.photo.psnr["liif"],
                "jpeg_model": None if self.jpeg is None else self.jpeg.psnr["liif"]}

    @property
    def jpeg_gain_db(self) -> float | None:
        """How much closer the JPEG-trained model came than the photo model (None without it)."""
        return None if self.jpeg is None else self.jpeg.psnr["liif"] - self.photo.psnr["liif"]

    def block_edges(self) -> dict:
        """How much each picture changes across the JPEG's block edges, as a multiple of how much it changes
        between its other neighbouring pixels (`block_edge_ratio`); None where the tiny is one block."""
        pictures_ = {"real": self.real, "bicubic": self.bicubic, "photo_model": self.photo.liif}
        if self.jpeg is not None:
            pictures_["jpeg_model"] = self.jpeg.liif
        return {key: block_edge_ratio(rgb, self.scale) for key, rgb in pictures_.items()}

    @property
    def sentences(self) -> list:
        return findings(self)

    def error_maps_picture(self) -> np.ndarray:
        """|bicubic - real|, |photo model - real| (and |JPEG model - real|), side by side over one bar."""
        return plain.error_maps_picture([self.bicubic] + [c.liif for _, c in self.models], self.real)

    def closer_picture(self) -> np.ndarray:
        """Per input-pixel block: orange where the JPEG-trained model is closer to the real photo than the photo
        model, blue where further (without it: the photo model against bicubic, as in the plain check)."""
        if self.jpeg is None:
            return self.photo.closer_picture()
        return plain.closer_picture(plain.closer_map(self.photo.liif, self.jpeg.liif, self.real, self.scale),
                                    "JPEG model")

    def magnify(self, centre=None, tile: int = plain.MAGNIFIER_TILE) -> tuple:
        """(3x2 picture: tiny before the JPEG | the JPEG | real photo / bicubic | photo model | JPEG model,
        box in output pixels) around the output pixel centre = (x, y), as `Check.magnify`."""
        box = self.photo.magnifier_box(centre)
        clean = np.repeat(np.repeat(self.clean_tiny, self.scale, 0), self.scale, 1)
        panels = [(clean, "tiny, before the JPEG"), (self.tiny_enlarged, f"tiny as JPEG {self.quality}"),
                  (self.real, "real photo"), (self.bicubic, "bicubic")]
        panels += [(c.liif, "JPEG-trained" if c is self.jpeg else "photo model") for _, c in self.models]
        return plain.magnifier(panels, box, tile, columns=3), box

    def markdown(self) -> str:
        rows = [("bicubic", self.photo.psnr["bicubic"], self.photo.ssim["bicubic"])]
        rows += [(f"LIIF, {label}", c.psnr["liif"], c.ssim["liif"]) for label, c in self.models]
        return plain.report(rows, self, f", and that tiny version saved as a JPEG of quality {self.quality}, as a "
                                        "thumbnail found on the web would be; bicubic and "
                                        f"{'both models' if self.jpeg else 'the model'} brought that same JPEG")

    def summary(self) -> dict:
        """The API's and the command line's JSON description."""
        h, w = self.tiny.shape[:2]
        return {
            "scale": self.scale, "jpeg_quality": self.quality, "tiny": {"width": w, "height": h},
            "real": {"width": w * self.scale, "height": h * self.scale},
            "psnr_y_db": self.psnr, "bicubic_from_clean_tiny_psnr_y_db": self.clean_bicubic_psnr,
            "models": [{"role": "jpeg_model" if c is self.jpeg else "photo_model", "model": label,
                        "jpeg_trained": c is self.jpeg or self.photo_jpeg_trained,
                        "psnr_y_db": c.psnr["liif"], "ssim_y": c.ssim["liif"],
                        "gain_over_bicubic_db": c.gain_db} for label, c in self.models],
            "jpeg_model_available": self.jpeg is not None, "jpeg_model_gain_db": self.jpeg_gain_db,
            "block_edge_ratio": self.block_edges(),
            "findings": self.sentences, "seconds": self.seconds, "notices": list(self.notices),
        }

    def share_image(self) -> Image.Image:
        """tiny JPEG | bicubic | photo model | JPEG model | real photo, labelled, with the numbers: one PNG."""
        h, w = self.tiny.shape[:2]
        panels = ([Panel(self.tiny_enlarged, f"input {w}x{h}, JPEG {self.quality}", pixels=True),
                   Panel(self.bicubic, "bicubic")] + [Panel(c.liif, label) for label, c in self.models]
                  + [Panel(self.real, "the real photo")])
        numbers = ", ".join(f"{text} {c.psnr['liif']:.2f} dB" for text, c in self.models)
        caption = (f"x{self.scale}, the tiny photo saved as JPEG {self.quality}: PSNR-Y against the real photo, "
                   f"bicubic {self.photo.psnr['bicubic']:.2f} dB, {numbers}.")
        return sheet(panels, min(plain.SHARE_PANEL_HEIGHT * 2, self.real.shape[0]), caption,
                     "LIIF Zoom, check against the real photo")


# -- the check -------------------------------------------------------------------------------------


def check_jpeg(upscaler, source, scale=plain.DEFAULT_SCALE, quality=75, second=None,
               working_size=plain.DEFAULT_WORKING_SIZE, progress=None, model_name: str = "",
               second_name: str = "", name: str | None = None) -> JpegCheck:
    """Shrink `source` by `scale` as `check.check` does, save the tiny version as a JPEG of `quality`, and
    bring that one JPEG back with bicubic, with `upscaler` (the photo model) and with `second` (the
    JPEG-trained model, if given); all are measured against the real photo. Bad input raises
    `imageio.ImageInputError` with one sentence; `progress(fraction)` follows the LIIF renders."""
    start = time.perf_counter()
    quality = check_quality(quality)
    if quality is None:
        raise imageio.ImageInputError("a JPEG check needs a JPEG quality, from 1 to 95")
    loaded, real, clean_tiny = plain.load_real_and_tiny(source, scale, working_size, name)
    scale = int(scale)
    tiny = np.array(jpeg_roundtrip(clean_tiny, quality))  # a writable copy, for torch
    parts = 1 if second is None else 2

    def follow(part):
        return None if progress is None else (lambda f: progress((part + f) / parts))

    photo = plain.measure(upscaler, source, real, tiny, scale, progress=follow(0), model_name=model_name,
                          notices=loaded.notices)
    jpeg = None if second is None else plain.measure(second, source, real, tiny, scale, progress=follow(1),
                                                     model_name=second_name, bicubic=photo.bicubic)
    real_h, real_w = real.shape[:2]
    clean_bicubic = np.asarray(bicubic_image(imageio.load_image(clean_tiny), real_w, real_h).convert("RGB"))
    result = JpegCheck(quality=quality, clean_tiny=clean_tiny, photo=photo, jpeg=jpeg,
                       photo_jpeg_trained=jpeg_inputs(upscaler) is not None,
                       clean_bicubic_psnr=psnr_y(clean_bicubic, real, shave=scale), notices=list(loaded.notices))
    result.seconds = time.perf_counter() - start
    return result


def check_quality(value) -> int | None:
    """The JPEG option: None, "", 0 or "none" -> None (no JPEG); 1..95 (or "JPEG 75") -> that quality."""
    text = str(value if value is not None else "").strip().lower().removeprefix("jpeg").strip()
    if text in ("", "none", "0"):
        return None
    try:
        quality = float(text)
    except ValueError:
        quality = float("nan")
    if not quality.is_integer() or not 1 <= quality <= 95:
        raise imageio.ImageInputError(f"the JPEG quality must be a whole number from 1 to 95, not {value!r}")
    return int(quality)


def jpeg_inputs(upscaler) -> dict | None:
    """The `jpeg_inputs` of the model's training record (or of a run it continued): how it was trained on
    JPEG-compressed inputs; None for a model trained on clean photos only."""
    weights = getattr(upscaler, "weights", None)
    for record in getattr(weights, "lineage", None) or []:
        if isinstance(record, dict) and record.get("jpeg_inputs"):
            return record["jpeg_inputs"]
    return None


def block_edge_ratio(rgb: np.ndarray, scale: int) -> float | None:
    """The mean |step| of the Y channel between neighbouring pixels across the JPEG's block edges (every
    BLOCK tiny pixels, so every BLOCK x scale output pixels), divided by the mean |step| everywhere else:
    about 1 for a photo that never was a JPEG, above 1 where the blocks' edges show. None when the tiny
    version is a single block."""
    y = rgb_to_y(rgb)
    period = BLOCK * int(scale)
    steps = [np.abs(np.diff(y, axis=1)), np.abs(np.diff(y, axis=0)).T]  # both as (lines, steps along them)
    edge, other = [], []
    for step in steps:
        at_edge = np.zeros(step.shape[1], bool)
        at_edge[period - 1 :: period] = True
        edge.append(step[:, at_edge].ravel())
        other.append(step[:, ~at_edge].ravel())
    edge, other = np.concatenate(edge), np.concatenate(other)
    if edge.size == 0 or other.size == 0 or other.mean() == 0:
        return None
    return float(edge.mean() / other.mean())


# -- what it says ----------------------------------------------------------------------------------


def findings(result: JpegCheck) -> list:
    """Three sentences, each from this check's own numbers."""
    bicubic = result.psnr["bicubic"]
    cost = result.clean_bicubic_psnr - bicubic
    change = np.abs(result.tiny.astype(int) - result.clean_tiny.astype(int))
    sentences = [
        f"**The JPEG** (quality {result.quality}) moved the tiny photo's pixels by {change.mean():.1f} levels on "
        f"average ({change.max()} at most) before anything upscaled it: bicubic from it is {bicubic:.2f} dB from "
        f"the real photo, {_signed_db(cost, 'lower', 'higher')} than from the clean tiny version."]
    photo_name = result.photo.model_name or "the photo model"
    if result.jpeg is not None:
        jpeg_name = result.jpeg.model_name or "the JPEG-trained model"
        gain, jpeg_db, photo_db = result.jpeg_gain_db, result.jpeg.psnr["liif"], result.photo.psnr["liif"]
        if gain >= TIE_DB:
            verdict = f"is **{gain:.2f} dB closer** to the real photo than {photo_name}"
        elif gain <= -TIE_DB:
            verdict = f"is **{-gain:.2f} dB further** from the real photo than {photo_name}"
        else:
            verdict = f"comes out **the same** as {photo_name} (within {TIE_DB} dB)"
        sentences.append(
            f"**On the same JPEG**, {jpeg_name}, trained on compressed photos, {verdict}: {jpeg_db:.2f} dB against "
            f"{photo_db:.2f} dB PSNR-Y ({jpeg_db - bicubic:+.2f} and {photo_db - bicubic:+.2f} dB over bicubic's "
            f"{bicubic:.2f} dB).")
    elif result.photo_jpeg_trained:
        sentences.append(
            f"**Only {photo_name}** ran, and it was itself trained on compressed photos: no model trained on clean "
            f"photos is available to compare. It is {result.photo.gain_db:+.2f} dB against bicubic on this JPEG.")
    else:
        sentences.append(
            f"**The JPEG-trained model is not available** here (no model trained on compressed inputs), so only "
            f"{photo_name} ran: {result.photo.psnr['liif']:.2f} dB PSNR-Y, {result.photo.gain_db:+.2f} dB against "
            "bicubic on this JPEG.")
    sentences.append(_block_sentence(result, photo_name))
    return sentences


def _block_sentence(result: JpegCheck, photo_name: str) -> str:
    ratios = result.block_edges()
    start = ("**The JPEG's 8×8 blocks**: a JPEG stores the tiny photo in blocks of 8×8 pixels, each compressed "
             "on its own, so steps appear along their edges that the photo never had; a model trained on clean "
             "photos never saw them, takes them for detail and sharpens them.")
    if ratios["photo_model"] is None:
        return start + " This tiny version is a single block, so there are no block edges to measure here."
    measured = (f" Across those edges (every {BLOCK} tiny pixels) the real photo changes {ratios['real']:.2f}× as "
                f"much as between its other neighbouring pixels, bicubic from the JPEG {ratios['bicubic']:.2f}×, "
                f"{photo_name} {ratios['photo_model']:.2f}×"
                + (f", the JPEG-trained model {ratios['jpeg_model']:.2f}×." if "jpeg_model" in ratios else "."))
    photo, real, bicubic = ratios["photo_model"], ratios["real"], ratios["bicubic"]
    if photo > real:
        said = f" Here {photo_name} made the block edges stand out more than in the real photo" + (
            ", and more than bicubic did: it sharpened them" if photo > bicubic else "")
        if "jpeg_model" in ratios:
            said += (f"; the JPEG-trained model left them {'less' if ratios['jpeg_model'] < photo else 'no less'} "
                     "marked")
        said += "."
    else:
        said = f" Here {photo_name} did not make the block edges stand out more than in the real photo."
    return start + measured + said


def _signed_db(value: float, lower: str, higher: str) -> str:
    return f"{value:.2f} dB {lower}" if value >= 0 else f"{-value:.2f} dB {higher}"
