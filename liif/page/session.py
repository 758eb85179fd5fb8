"""What the web page does for a visitor, without the page: `app.py` lays out components and calls this.

    shelf = ModelShelf()                                   # weights from $LIIF_WEIGHTS or weights/
    request = prepare("photo.png", scale=8)                # checks the file and the output size
    for step in run_steps(shelf, shelf.default_name, request, outputs):
        ...                                                # Partial previews, then one finished Run
    view = magnify(shelf, run, centre=(x, y))              # the crop magnifier around an output pixel

Why the run is a generator: on a 2-core CPU the decoder needs tens of seconds for a 512×512 result, so
the LIIF output is rendered in bands of rows and each band is shown as soon as it is done; the first
LIIF pixels appear within a few seconds and the rest fill in over the bicubic guess. Bands of a full
render's grid are that render's rows exactly (engine.render_region), so nothing changes but the timing.
"""

import atexit
import hashlib
import math
import os
import re
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from liif import settings
from liif.core import fmt
from liif.core.weights import (
    WeightsError,
    default_weights_path,
    display_label,
    list_shipped,
    load_weights,
    read_metadata,
)
from liif.lessons import explain
from liif.render import imageio, pictures, sizes
from liif.render.engine import Speed, Upscaler
from liif.render.pictures import flatten_image, label
from liif.render.upscale import bicubic_image

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
# The page's slider: its steps and its largest scale (lowered for each photo to what that photo allows).
SCALE_STEP = 0.1
SCALE_MAX = 30.0
# A progressive render shows its progress about this often (seconds); the first band is sized to be quick.
UPDATE_SECONDS = 2.0
FIRST_BAND_PIXELS = 8192
DECODER_SHARE = 0.95  # of a run's progress; the explanation and the PNG take the rest
# Each magnifier tile is rendered natively at this many pixels a side.
MAGNIFIER_TILE = 256
# The magnifier looks twice as close as the output: a region of TILE / (2 * scale) input pixels.
MAGNIFIER_ZOOM_OVER_OUTPUT = 2.0
MIN_REGION_PIXELS = 2.0
# How long the files made for downloads are kept (seconds); the page's cache uses the same age.
OUTPUT_MAX_AGE = 1800
# A page load waits this long (seconds) for the example answer made at start before showing the page without it.
EXAMPLE_WAIT_SECONDS = 120


# -- models ----------------------------------------------------------------------------------------


class ModelShelf:
    """The weights files the page offers, each loaded once, on first use, into one `Upscaler`.

    $LIIF_WEIGHTS names a single file; otherwise every file shipped in weights/ is offered, the library's
    default first. When there is none, `problem` says why, in a sentence fit for the page.
    """

    def __init__(self, weights_path=None, device="auto", precision=None):
        weights_path = weights_path if weights_path is not None else settings.weights()
        # fp32 or bf16 forces the precision (e.g. fp32 for screenshots that must not depend on the CPU's
        # bf16 unit); the default, auto, is bf16 where the hardware makes it fast.
        precision = precision or settings.precision()
        self.device, self.precision = device, precision
        self.paths: dict[str, Path] = {}
        self.problem: str | None = None
        self.unusable: dict[str, str] = {}  # file name -> why it is not offered
        if weights_path is not None:
            path = Path(weights_path)
            if path.is_file():
                self._offer(path)
            else:
                self.problem = f"{settings.WEIGHTS} names {path}, which is not a file; no model can run until it does."
        else:
            try:
                default = default_weights_path()
            except WeightsError as exc:
                self.problem = str(exc)
            else:
                for path in [default] + [p for p in list_shipped() if p != default]:
                    self._offer(path)
        if not self.paths and self.problem is None:
            self.problem = " ".join(f"{reason}." for reason in self.unusable.values())
        self._upscalers: dict[str, Upscaler] = {}
        self._hashes: dict[str, str] = {}
        # Measured seconds per input pixel (encoder) and per output pixel (decoder), from each model's
        # latest run here: what the page's time estimate before a run is made of.
        self.costs: dict[str, tuple] = {}
        self._locks: dict[str, threading.Lock] = {name: threading.Lock() for name in self.paths}
        self._loading = threading.Lock()

    def _offer(self, path: Path) -> None:
        """Offer a weights file if its header and architecture can be read: a corrupt file is found at
        start, with its reason, not by the first visitor (the parameters load later, on first use)."""
        try:
            check_weights_file(path)
        except WeightsError as exc:
            self.unusable[path.name] = str(exc)
            return
        self.paths[path.name] = path

    @property
    def names(self) -> list:
        return list(self.paths)

    @property
    def default_name(self) -> str | None:
        return self.names[0] if self.names else None

    @property
    def choices(self) -> list:
        """(what the menu shows, the model's name) pairs for the page's model menu."""
        return [(display_label(path), name) for name, path in self.paths.items()]

    def load_in_background(self) -> threading.Thread | None:
        """Start loading the default model now, so no visitor waits for it; the page stays usable."""
        if self.default_name is None:
            return None

        def load():
            try:
                self.speed(self.default_name)  # loads the model, then times it once (which warms it up)
            except WeightsError:
                pass  # the first run reports it with the reason

        thread = threading.Thread(target=load, name="liif-model-preload", daemon=True)
        thread.start()
        # A process that ends while torch works in this thread aborts ("terminate called without an
        # active exception", exit 134), e.g. a test run that imported the app: let the load finish first.
        atexit.register(thread.join, timeout=120)
        return thread

    def upscaler(self, name: str | None = None) -> Upscaler:
        """The model's engine, loaded on first use. Raises WeightsError with the reason if it cannot be."""
        name = name or self.default_name
        if name is None:
            raise WeightsError(self.problem or "no model is available")
        if name not in self.paths:
            raise WeightsError(f"unknown model {name!r}; available: {', '.join(self.names)}")
        with self._loading:
            if name not in self._upscalers:
                self._upscalers[name] = Upscaler(load_weights(self.paths[name]), self.device, self.precision)
            return self._upscalers[name]

    def speed(self, name: str | None = None) -> Speed:
        """The model's measured cost per pixel on this machine (loads and times it on first use)."""
        upscaler = self.upscaler(name)
        with self.lock(name):
            return upscaler.speed()

    def sha256(self, name: str | None = None) -> str:
        """The weights file's SHA-256 (hex), so a result can be tied to the exact model that made it."""
        name = name or self.default_name
        if name not in self._hashes:
            self._hashes[name] = hashlib.sha256(self.paths[name].read_bytes()).hexdigest()
        return self._hashes[name]

    def record_costs(self, name: str, run: "Run") -> None:
        """Keep a finished run's speed: the encoder's seconds per input pixel (unless it was reused), and
        everything else (decoder, explanation, PNG) per output pixel."""
        facts = run.facts
        encoder = self.costs.get(name, (None, None))[0]
        if not facts.encoder_reused:
            encoder = facts.encoder_seconds / facts.in_pixels
        self.costs[name] = (encoder, (run.seconds_total - facts.encoder_seconds) / facts.out_pixels)

    def estimate_seconds(self, name, in_pixels: int, out_pixels: int) -> float | None:
        """Seconds a run of this size should take with this model here, from the measured costs; None
        before the model has run once."""
        name = name or self.default_name
        encoder, decoder = self.costs.get(name, (None, None))
        if decoder is None:  # no run yet: the model's own compute, as measured when it was loaded
            upscaler = self._upscalers.get(name)
            speed = upscaler.measured_speed if upscaler is not None else None
            return None if speed is None else speed.seconds(in_pixels, out_pixels)
        return (encoder or 0.0) * in_pixels + decoder * out_pixels

    @contextmanager
    def working(self, name: str | None = None, owner=None):
        """The model's upscaler, for one piece of work: its lock held, and its encodings kept for `owner`
        (the visitor's session) alone (Upscaler.owned_by)."""
        upscaler = self.upscaler(name)
        with self.lock(name), upscaler.owned_by(owner):
            yield upscaler

    def lock(self, name: str | None = None) -> threading.Lock:
        """Held while a model computes: an Upscaler's cache is not shared safely between threads."""
        return self._locks[name or self.default_name]


# -- one run ---------------------------------------------------------------------------------------


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
        """Width and height scaled differently (beyond the rounding of whole pixels)."""
        loaded = self.loaded
        sx, sy = self.scales
        return round(loaded.width * sy) != self.out_width and round(loaded.height * sx) != self.out_height

    def scale_label(self) -> str:
        """"×8", or "×6.25 wide × ×2.5 tall (stretched)" when the scales differ."""
        sx, sy = self.scales
        if not self.stretched:
            return f"×{sx:.3g}"
        return f"×{sx:.3g} wide × ×{sy:.3g} tall (stretched)"


def max_output_pixels() -> int:
    return imageio.pixel_limit(None, settings.max_output_pixels, PAGE_MAX_OUTPUT_PIXELS)


def page_model_seconds() -> float:
    return settings.page_seconds() or PAGE_MODEL_SECONDS


def max_scale(in_width: int, in_height: int, speed: Speed | None = None) -> float:
    """The largest scale (a multiple of SCALE_STEP, at most SCALE_MAX) the page accepts for a photo of
    this size: inside the output limit and, with `speed`, inside the page's work budget. 0 when even
    x1 is refused (the photo itself is too much work)."""
    pixels = in_width * in_height
    out_pixels = max_output_pixels()
    if speed is not None:
        left = page_model_seconds() - pixels * speed.encoder_seconds_per_pixel
        out_pixels = min(out_pixels, max(0.0, left) / speed.decoder_seconds_per_pixel)
    steps = math.floor(math.sqrt(out_pixels / pixels) / SCALE_STEP + 1e-9)
    while steps > 0 and not _accepted(in_width, in_height, steps * SCALE_STEP, speed):
        steps -= 1  # whole-pixel rounding can push the last step over
    return min(SCALE_MAX, round(steps * SCALE_STEP, 1)) if steps >= 1 / SCALE_STEP else 0.0


def _accepted(in_width, in_height, scale, speed) -> bool:
    out_w, out_h = sizes.output_size(in_width, in_height, scale=scale)
    return _refusal(in_width, in_height, out_w, out_h, speed) is None


def _refusal(in_w, in_h, out_w, out_h, speed) -> str | None:
    """Why the page refuses this request, in a sentence with no command-line advice; None if it does not."""
    try:
        sizes.check_output_size(in_w, in_h, out_w, out_h, max_pixels=max_output_pixels())
    except imageio.ImageInputError as exc:
        return str(exc)
    if speed is None:
        return None
    seconds = speed.seconds(in_w * in_h, out_w * out_h)
    budget = page_model_seconds()
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
    return Request(loaded, out_w, out_h, name=_safe_name(name))


def output_size_for(in_width: int, in_height: int, scale=None, target_width=0, target_height=0, stretch=False,
                    speed: Speed | None = None) -> tuple:
    """(out_width, out_height) the page makes of a photo of this size (see `prepare`), from the size alone,
    so the instant answers (the estimate) need no decode. Raises ImageInputError with a sentence."""
    width, height = _target(target_width, "width"), _target(target_height, "height")
    if width and height and stretch:
        out_w, out_h = sizes.output_size(in_width, in_height, size=(width, height))
    elif width and height:  # fit inside the box: the side that reaches it first decides
        if width * in_height <= height * in_width:
            out_w, out_h = sizes.output_size(in_width, in_height, width=width)
        else:
            out_w, out_h = sizes.output_size(in_width, in_height, height=height)
    elif width:
        out_w, out_h = sizes.output_size(in_width, in_height, width=width)
    elif height:
        out_w, out_h = sizes.output_size(in_width, in_height, height=height)
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
        pixels = min(pixels, page_model_seconds() / per_pixel)
    ratio = min(1.0, math.sqrt(pixels / (in_width * in_height)))
    return max(1, math.floor(in_width * ratio)), max(1, math.floor(in_height * ratio))


def cannot_enlarge_text(in_width: int, in_height: int, model_label: str, speed: Speed | None,
                        others: dict) -> str:
    """What the page can do with a photo it cannot enlarge with this model (the slider has no range
    then): another model's largest scale, if one fits, and the size to shrink it to. `others` maps each
    other model's label to its Speed."""
    budget = page_model_seconds()
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


def check_weights_file(path: Path) -> None:
    """Raise WeightsError if a weights file's header or architecture cannot be read (cheap: the
    parameters themselves are read on first use)."""
    if path.suffix != ".safetensors":
        return  # the authors' .pth files are pickles: only loading them checks them
    try:
        metadata = read_metadata(path)
    except Exception as exc:  # safetensors raises its own error type, OSError, ValueError...
        raise WeightsError(f"{path.name} could not be read (truncated or corrupt?): {exc}") from None
    if "config" not in metadata:
        raise WeightsError(f"{path.name} holds no model architecture; it was not written by liif")


@dataclass
class Partial:
    """A progressive render's state: the rows done so far over the bicubic guess, and the fraction done."""

    preview: np.ndarray  # (H, W, 3) uint8
    bicubic: np.ndarray
    fraction: float


@dataclass
class Run:
    """A finished run: everything the page shows, and what the magnifier needs later."""

    request: Request
    model_name: str
    liif: Image.Image  # the output as saved: greyscale and alpha as the input had them
    bicubic: Image.Image
    liif_rgb: np.ndarray  # (H, W, 3) uint8: the colours as saved, without alpha (what is compared)
    bicubic_rgb: np.ndarray
    facts: explain.RunFacts
    explanation: explain.Explanation
    png_path: Path | None = None
    seconds_to_first_result: float = 0.0
    seconds_total: float = 0.0
    owner: str | None = None  # the visitor's session whose encoding this run made (ModelShelf.working)

    @property
    def scale(self) -> tuple:
        loaded = self.request.loaded
        return self.request.out_width / loaded.width, self.request.out_height / loaded.height

    @property
    def liif_display(self) -> np.ndarray:
        return flatten_image(self.liif)

    @property
    def bicubic_display(self) -> np.ndarray:
        return flatten_image(self.bicubic)


def run_steps(shelf: ModelShelf, model_name, request: Request, outputs=None, progress=None,
              update_seconds=UPDATE_SECONDS, first_band_pixels=FIRST_BAND_PIXELS, owner=None):
    """Upscale `request`, yielding `Partial`s while the decoder works and the finished `Run` last.

    progress(fraction, text), if given, is fed from the engine's own progress callback. `outputs`, an
    `OutputFolder`, receives the PNG for download. `owner` (the visitor's session) keeps the encoding
    for that visitor alone: the magnifier reuses it, nobody else does.
    """
    start = time.perf_counter()
    model_name = model_name or shelf.default_name
    upscaler = shelf.upscaler(model_name)
    loaded = request.loaded
    out_w, out_h = request.out_width, request.out_height
    image01 = imageio.to_tensor(loaded.rgb)

    _report(progress, 0.0, "encoder: describing every input pixel")
    with shelf.working(model_name, owner):
        encode_start = time.perf_counter()
        encoded = upscaler.encode(image01)
        encoder_seconds = time.perf_counter() - encode_start
        # The engine caches encodings by content; count uses so the explanation can say it was reused.
        uses = encoded.timings.get("runs", 0)
        encoded.timings["runs"] = uses + 1
    bicubic = bicubic_image(loaded, out_w, out_h)
    bicubic_rgb = np.asarray(bicubic.convert("RGB"))
    bicubic_shown = flatten_image(bicubic)
    previews = math.isfinite(update_seconds)
    if previews:  # the first thing to look at, before the decoder has done anything
        yield Partial(_pending_over(np.zeros((0, out_w, 3), np.uint8), bicubic_shown), bicubic_shown, 0.0)

    liif = torch.empty(1, 3, out_h, out_w)
    decoder_seconds, first_result = 0.0, None
    band_pixels = first_band_pixels
    row = 0
    while row < out_h:
        rows = min(out_h - row, max(1, band_pixels // out_w))

        def band_progress(fraction, row=row, rows=rows):
            # The decoder's share of the progress ends short of 1: the explanation and the PNG come after it.
            _report(progress, DECODER_SHARE * (row + fraction * rows) / out_h, "decoder: asking for every output pixel's colour")

        band_start = time.perf_counter()
        with shelf.working(model_name, owner):
            liif[:, :, row : row + rows] = render_rows(upscaler, image01, (out_h, out_w), row, row + rows, band_progress)
        seconds = time.perf_counter() - band_start
        decoder_seconds += seconds
        row += rows
        if first_result is None:
            first_result = time.perf_counter() - start
        if not previews:
            band_pixels = out_w * out_h  # no previews wanted: the rest in one go
            continue
        # Size the next band from this one's speed so updates come about every `update_seconds`.
        band_pixels = max(out_w, int(rows * out_w / max(seconds, 1e-3) * update_seconds))
        if row < out_h:
            yield Partial(_pending_over(imageio.to_uint8(liif[:, :, :row]), bicubic_shown), bicubic_shown, row / out_h)

    liif_rgb = imageio.to_uint8(liif)
    if previews:  # every row is done, but the explanation and the PNG are still to come: say so
        yield Partial(liif_rgb, bicubic_shown, 1.0)
    _report(progress, DECODER_SHARE, "writing the explanation and the PNG")

    composed = imageio.compose_output(liif_rgb, loaded)
    facts = explain.RunFacts(
        in_width=loaded.width, in_height=loaded.height, out_width=out_w, out_height=out_h,
        encoder_seconds=encoder_seconds, decoder_seconds=decoder_seconds,
        device=str(upscaler.device), precision=upscaler.precision, model_name=model_name,
        encoder=upscaler.model.config.encoder, feature_channels=int(encoded.feat.shape[1]),
        local_ensemble=upscaler.model.config.local_ensemble, residual=upscaler.model.config.residual,
        encoder_reused=uses > 0, first_encoder_seconds=encoded.seconds,
        weights_sha256=shelf.sha256(model_name), **explain.model_facts(upscaler.model, upscaler.weights.training),
    )
    upscaler.note_timings(0 if uses else loaded.width * loaded.height, encoder_seconds, out_w * out_h, decoder_seconds)
    # The explanation compares what the visitor sees: colours as saved (a greyscale input gives greyscale).
    liif_seen = np.asarray(composed.convert("RGB"))
    explanation = explain.explain(facts, encoded.feat.cpu(), loaded.rgb, bicubic_rgb, liif_seen)
    scale = out_w / loaded.width
    png_path = None
    if outputs is not None:
        png_path = outputs.save(composed, f"{request.name}-liif-x{fmt.number(scale)}-{out_w}x{out_h}.png")
    finished = Run(request, model_name, composed, bicubic, liif_seen, bicubic_rgb, facts, explanation, png_path,
                   seconds_to_first_result=first_result or 0.0, seconds_total=time.perf_counter() - start,
                   owner=owner)
    shelf.record_costs(model_name, finished)
    _report(progress, 1.0, "done")
    yield finished


def give_back_memory() -> None:
    """Return freed memory to the system after a run. glibc keeps freed blocks of a large run mapped,
    so a server's memory would stay at its peak long after the work that needed it; malloc_trim hands
    them back (Linux with glibc; elsewhere nothing is done)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def render_rows(upscaler: Upscaler, image01: torch.Tensor, out_size: tuple, row0: int, row1: int, progress=None):
    """Rows row0..row1 of a full render at out_size = (H, W): (1, 3, row1 - row0, W). Same pixel grid and
    cell as the full render, so bands stitched together are the full render."""
    out_h, out_w = out_size
    _, _, h, w = image01.shape
    box = (row0 * h / out_h, 0.0, row1 * h / out_h, float(w))
    return upscaler.render_region(image01, box, (row1 - row0, out_w), cell_size=(out_h, out_w), progress=progress)


def run_to_end(shelf: ModelShelf, model_name, request: Request, outputs=None, progress=None, owner=None) -> Run:
    """`run_steps` without the previews (for scripts and the API)."""
    result = None
    for step in run_steps(shelf, model_name, request, outputs, progress, update_seconds=math.inf, owner=owner):
        result = step
    return result


def summary(run: Run) -> dict:
    """The API's JSON description of a run."""
    facts, numbers = run.facts, run.explanation.numbers
    return {
        "input": {"width": facts.in_width, "height": facts.in_height},
        "output": {"width": facts.out_width, "height": facts.out_height},
        "scale": {"x": facts.out_width / facts.in_width, "y": facts.out_height / facts.in_height},
        "model": run.model_name,
        "weights_sha256": facts.weights_sha256,
        "device": facts.device,
        "precision": facts.precision,
        "timings": {
            "encoder_seconds": facts.encoder_seconds,
            "encoder_reused": facts.encoder_reused,
            "decoder_seconds": facts.decoder_seconds,
            "total_seconds": run.seconds_total,
        },
        # Each input pixel stands for a (scale x scale) block of the output: 1/scale² as many pixels.
        "observed_share": numbers["observed_share"],
        "decoder_queries": numbers["queries"],
        "added_mean_levels": numbers["added_mean_levels"],
        # JSON has no infinity: an exact match (infinite PSNR) is reported as null with identical=true.
        "consistency_psnr_db": _finite(numbers["consistency_psnr_db"]),
        "consistency_identical": math.isinf(numbers["consistency_psnr_db"]),
        "notices": list(run.request.loaded.notices),
    }


class ExampleRun:
    """One example upscaled in the background when the app starts, so the page can show a whole answer,
    with its pictures, before any visitor runs anything (and the time estimates have measured costs)."""

    def __init__(self, shelf: ModelShelf, path, scale):
        self.path, self.scale = Path(path), scale
        self.run: Run | None = None
        self.problem: str | None = None
        self._done = threading.Event()
        threading.Thread(target=self._work, args=(shelf,), name="liif-example-run", daemon=True).start()

    def _work(self, shelf: ModelShelf) -> None:
        try:
            self.run = run_to_end(shelf, None, prepare(self.path, self.scale))
        except (imageio.ImageInputError, WeightsError) as exc:
            self.problem = f"No example answer could be made: {exc}"
        finally:
            self._done.set()

    def wait(self, timeout=None) -> Run | None:
        self._done.wait(timeout)
        return self.run


# -- the magnifier ---------------------------------------------------------------------------------


@dataclass
class Magnified:
    image: np.ndarray  # 2x2 tiles: input pixels | bicubic / LIIF | what was added
    box: tuple  # (x0, y0, x1, y1) in input pixels
    output_box: tuple  # the same in output pixels, for drawing on the outputs
    tile: np.ndarray = field(repr=False, default=None)  # the LIIF tile alone


def region_around(run: Run, centre=None, tile=None, zoom_over_output=MAGNIFIER_ZOOM_OVER_OUTPUT) -> tuple:
    """The magnifier's square region (x0, y0, x1, y1) in input pixels around an output pixel (x, y);
    the image's centre when none is given. Kept inside the image. Its side is chosen so that a tile of
    `tile` pixels shows it `zoom_over_output` times closer than the output does."""
    loaded = run.request.loaded
    w, h = loaded.width, loaded.height
    sx, sy = run.scale
    side = (tile or MAGNIFIER_TILE) / (zoom_over_output * math.sqrt(sx * sy))
    side = min(max(side, MIN_REGION_PIXELS), w, h)
    point = None if centre is None else ((centre[0] + 0.5) / sx, (centre[1] + 0.5) / sy)
    return pictures.box_around(point, (side, side), w, h)


def magnify(shelf: ModelShelf, run: Run, centre=None, tile=None,
            zoom_over_output=MAGNIFIER_ZOOM_OVER_OUTPUT) -> Magnified:
    """Input pixels, bicubic and LIIF for one region, each `tile` pixels a side. The LIIF tile is rendered
    natively at that resolution from the cached encoding, not cut from the output and enlarged."""
    tile = tile or MAGNIFIER_TILE
    x0, y0, x1, y1 = region_around(run, centre, tile, zoom_over_output)
    loaded = run.request.loaded
    with shelf.working(run.model_name, run.owner) as upscaler:
        liif = upscaler.render_region(imageio.to_tensor(loaded.rgb), (y0, x0, y1, x1), (tile, tile))
    liif_tile = np.asarray(imageio.compose_output(imageio.to_uint8(liif), loaded).convert("RGB"))
    bicubic_tile = np.asarray(bicubic_image(loaded, tile, tile, region=(x0, y0, x1, y1)).convert("RGB"))
    pixels_tile = pictures.nearest_region(loaded.rgb, (x0, y0, x1, y1), tile)
    added, _ = explain.added_detail(liif_tile, bicubic_tile)
    tiles = [label(pixels_tile, "input pixels"), label(bicubic_tile, "bicubic"),
             label(liif_tile, "LIIF"), label(added, "added by LIIF")]
    sx, sy = run.scale
    return Magnified(pictures.grid_2x2(tiles), (x0, y0, x1, y1), (x0 * sx, y0 * sy, x1 * sx, y1 * sy), liif_tile)


# -- words and pictures for the page ---------------------------------------------------------------


def status_text(run: Run) -> str:
    facts = run.facts
    notices = run.request.loaded.notices
    lines = [
        f"**Done**: {facts.in_width}×{facts.in_height} → {facts.out_width}×{facts.out_height} "
        f"({run.request.scale_label()}). First LIIF rows "
        f"after {run.seconds_to_first_result:.1f} s, all in {run.seconds_total:.1f} s. Click either output "
        "(or use the magnifier's x and y) to look closer.",
        model_line(facts),
    ]
    if notices:
        lines.append("Your file was read with these changes: " + "; ".join(notices) + ".")
    return "\n\n".join(lines)


def model_line(facts: explain.RunFacts) -> str:
    """Which model made this, where and how exactly: pixels differ between machines (bf16 or fp32 is the
    hardware's choice), so a result is only reproducible with all three."""
    return (f"Model `{facts.model_name}` (SHA-256 `{facts.weights_sha256[:12]}`), on {facts.device} "
            f"in {facts.precision}.")


def estimate_text(shelf: ModelShelf, model_name, in_size: tuple, out_size: tuple) -> str:
    """A sentence for the page before a run of in_size -> out_size ((width, height) each), when the run will
    take more than SLOW_RUN_SECONDS (else "")."""
    (in_w, in_h), (out_w, out_h) = in_size, out_size
    seconds = shelf.estimate_seconds(model_name, in_w * in_h, out_w * out_h)
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
        f"{page_model_seconds():.0f} s: the slider stops at the largest scale your photo allows. To look "
        "closer than that, click an output: the magnifier renders any region at any zoom."
    )


# -- pictures for the page -------------------------------------------------------------------------


def _pending_over(done_rows: np.ndarray, bicubic_rgb: np.ndarray) -> np.ndarray:
    """The rows rendered so far above the bicubic guess, faded so it is clearly not yet LIIF."""
    preview = (bicubic_rgb.astype(np.uint16) + 3 * 200) // 4  # a light veil over what is still to come
    preview = preview.astype(np.uint8)
    preview[: done_rows.shape[0]] = done_rows
    return preview


def compare_pair(run: Run) -> tuple:
    """The compare slider's two pictures, each captioned on its own side: bicubic left, LIIF right."""
    return label(run.bicubic_display, "bicubic"), label(run.liif_display, "LIIF", right=True)


def _report(progress, fraction: float, text: str) -> None:
    if progress is not None:
        progress(fraction, text)


def _finite(x: float):
    return x if math.isfinite(x) else None


def _safe_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "image"


# -- files for download ----------------------------------------------------------------------------


class OutputFolder:
    """This server's private temporary folder: the PNGs offered for download and, when the page points
    Gradio's cache here ($GRADIO_TEMP_DIR), the uploads and the pictures the page shows, so each file is
    stored once and one folder holds everything a visitor left.

    Files older than `max_age` seconds are removed whenever a new one is written (the page's cache is
    cleaned on the same schedule), the folder is removed when the app exits, and a folder left by a
    server that was killed is removed by the next one to start (`remove_leftovers`): its name carries
    the process id that made it.
    """

    PREFIX = "liif-zoom-"

    def __init__(self, max_age: float = OUTPUT_MAX_AGE, parent=None):
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-", dir=parent))
        self.downloads = self.root / "downloads"
        self.downloads.mkdir()
        self.max_age = max_age

    def save(self, image: Image.Image, filename: str) -> Path:
        return imageio.save_png(image, self.new_path(filename))

    def new_path(self, filename: str) -> Path:
        """A fresh path for a download (in its own folder: same names never collide), pruned like the rest."""
        self.prune()
        return Path(tempfile.mkdtemp(dir=self.downloads)) / filename

    def prune(self) -> None:
        cutoff = time.time() - self.max_age
        for folder in self.downloads.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:
                pass  # another thread removed it first

    def size_bytes(self) -> int:
        """Bytes held in the folder now (uploads, cached pictures, downloads)."""
        total = 0
        for dirpath, _, filenames in os.walk(self.root):
            for filename in filenames:
                try:
                    total += os.lstat(os.path.join(dirpath, filename)).st_size
                except OSError:
                    pass  # removed meanwhile
        return total

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def remove_leftovers(cls, parent=None) -> list:
        """Remove the folders of servers that are no longer running (a crash, SIGKILL, a power cut),
        in `parent` (default: the system's temporary folder). Returns what was removed."""
        parent = Path(parent or tempfile.gettempdir())
        removed = []
        for folder in parent.glob(f"{cls.PREFIX}*"):
            owner = folder.name[len(cls.PREFIX):].split("-", 1)[0]
            if not folder.is_dir() or folder.is_symlink():
                continue
            if owner.isdigit() and _process_alive(int(owner)):
                continue
            if not owner.isdigit() and time.time() - folder.stat().st_mtime < OUTPUT_MAX_AGE:
                continue  # an older server's folder without a process id: only once it has expired
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
