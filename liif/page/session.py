"""One visitor's run, without the page: the progressive pipeline, the magnifier and the run's own words.

    shelf = ModelShelf()                                   # weights from $LIIF_WEIGHTS or weights/
    request = prepare("photo.png", scale=8)                # checks the file and the output size
    for step in run_steps(shelf, shelf.default_name, request, outputs):
        ...                                                # Partial previews, then one finished Run
    view = magnify(shelf, run, centre=(x, y))              # the crop magnifier around an output pixel

Why the run is a generator: on a 2-core CPU the decoder needs seconds for a 512×512 result, so the
LIIF output is rendered in bands of rows and each band is shown as soon as it is done; the first band
starts with the run, beside the page's first picture (first_rows.py), and the rest fill in over the
bicubic guess. Bands of a full render's grid are that render's rows exactly (engine.render_region); the
first band, when it was drawn from the top of the picture alone, is drawn again from the whole encoding
before the end, so the finished picture does not depend on the timing.
"""

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from liif.core import fmt
from liif.core.weights import WeightsError
from liif.lessons import explain, explain_words
from liif.page import limits
from liif.page.first_rows import FirstSteps, render_rows  # noqa: F401 (render_rows: session's, as before)
from liif.page.limits import Request, prepare
from liif.page.models import ModelShelf
from liif.render import imageio, pictures
from liif.render.engine import encoded_pixels
from liif.render.pictures import flatten_image, label
from liif.render.precision import precision_words
from liif.render.upscale import bicubic_image

# A progressive render shows its progress about this often (seconds); the first band is sized to be quick.
UPDATE_SECONDS = 2.0
FIRST_BAND_PIXELS = 8192


DECODER_SHARE = 0.95  # of a run's progress; the explanation and the PNG take the rest

# Each magnifier tile is rendered natively at this many pixels a side.
MAGNIFIER_TILE = limits.MAGNIFIER_TILE

# The magnifier looks twice as close as the output: a region of TILE / (2 * scale) input pixels.
MAGNIFIER_ZOOM_OVER_OUTPUT = 2.0
MIN_REGION_PIXELS = 2.0

# A page load waits this long (seconds) for the example answer made at start before showing the page without it.
EXAMPLE_WAIT_SECONDS = 120


@dataclass
class Partial:
    """A progressive render's state: the rows done so far over the bicubic guess, and the fraction done."""

    preview: np.ndarray  # (H, W, 3) uint8
    bicubic: np.ndarray
    fraction: float
    # The same pictures as PNG files for the page, when the run has a folder for them (else None):
    # OutputFolder.preview_png writes them several times faster than Gradio writes an array.
    preview_file: str | None = None
    bicubic_file: str | None = None

    @property
    def preview_shown(self):
        return self.preview_file or self.preview

    @property
    def bicubic_shown(self):
        return self.bicubic_file or self.bicubic


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
    seconds_total: float = 0.0
    owner: str | None = None  # the visitor's session whose encoding this run made (ModelShelf.working)

    @property
    def scale(self) -> tuple:
        return self.request.scales

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
    progress = progress or (lambda fraction, text: None)
    model_name = model_name or shelf.default_name
    upscaler = shelf.upscaler(model_name)
    loaded = request.loaded
    out_w, out_h = request.out_width, request.out_height
    image01 = imageio.to_tensor(loaded.rgb)
    previews = math.isfinite(update_seconds)
    # The first band and the encoder start now, beside the bicubic guess and the page's first picture of the
    # run (which Gradio writes and sends meanwhile), not after them (first_rows.py says why and how).
    first_rows = min(out_h, max(1, first_band_pixels // out_w)) if previews else 0
    steps = FirstSteps(shelf, model_name, owner, image01, (out_h, out_w), first_rows)
    try:
        bicubic = bicubic_image(loaded, out_w, out_h)
        bicubic_rgb = np.asarray(bicubic.convert("RGB"))
        bicubic_shown = flatten_image(bicubic)

        def partial(done_rgb, fraction):
            preview = done_rgb if fraction == 1 else _pending_over(done_rgb, bicubic_shown)
            if outputs is None:
                return Partial(preview, bicubic_shown, fraction)
            return Partial(preview, bicubic_shown, fraction, outputs.preview_png(preview),
                           outputs.preview_png(bicubic_shown) if fraction == 0 else None)

        if previews:  # the first thing to look at, before the model has done anything: the encoder alone takes
            # seconds on a slow CPU (x8 of a 64x64 photo in fp32 on 2 busy cores), the bicubic picture milliseconds
            yield partial(np.zeros((0, out_w, 3), np.uint8), 0.0)

        progress(0.0, "encoder: describing every input pixel")
        liif = torch.empty(1, 3, out_h, out_w)
        first, decoder_seconds, redraw = steps.first_band()
        liif[:, :, :first_rows] = first
        row = first_rows
        if 0 < row < out_h:
            yield partial(imageio.to_uint8(liif[:, :, :row]), row / out_h)
        encoded, encoder_seconds, reused = steps.encoding()
        if redraw:  # from the whole picture's encoding now, as the full render has them
            with shelf.working(model_name, owner):
                liif[:, :, :first_rows] = render_rows(upscaler, image01, (out_h, out_w), 0, first_rows)
                decoder_seconds += upscaler.last_render_seconds[1]
        def band_after(rows, seconds) -> int:
            """Without previews the rest in one go; with them, the next band sized from the last one's speed so
            updates come about every `update_seconds`."""
            return max(1, int(rows * update_seconds / max(seconds, 1e-3))) if previews else out_h

        band_rows = band_after(first_rows, decoder_seconds)
        while row < out_h:
            rows = min(out_h - row, band_rows)

            def band_progress(fraction, row=row, rows=rows):
                # The decoder's share of the progress ends short of 1: the explanation and the PNG come after it.
                progress(DECODER_SHARE * (row + fraction * rows) / out_h,
                         "decoder: asking for every output pixel's colour")

            band_start = time.perf_counter()
            with shelf.working(model_name, owner):
                liif[:, :, row : row + rows] = render_rows(upscaler, image01, (out_h, out_w), row, row + rows, band_progress)
            seconds = time.perf_counter() - band_start
            decoder_seconds += seconds
            row += rows
            band_rows = band_after(rows, seconds)
            if previews and row < out_h:
                yield partial(imageio.to_uint8(liif[:, :, :row]), row / out_h)

        liif_rgb = imageio.to_uint8(liif)
        if previews:  # every row is done, but the explanation and the PNG are still to come: say so
            yield partial(liif_rgb, 1.0)
        progress(DECODER_SHARE, "writing the explanation and the PNG")

        composed = imageio.compose_output(liif_rgb, loaded)
        facts = explain.RunFacts(
            in_width=loaded.width, in_height=loaded.height, out_width=out_w, out_height=out_h,
            encoder_seconds=encoder_seconds, decoder_seconds=decoder_seconds,
            device=str(upscaler.device), precision=upscaler.precision, model_name=model_name,
            encoder=upscaler.model.config.encoder, feature_channels=int(encoded.feat.shape[1]),
            local_ensemble=upscaler.model.config.local_ensemble, residual=upscaler.model.config.residual,
            encoder_reused=reused, first_encoder_seconds=encoded.seconds,
            weights_sha256=shelf.sha256(model_name), jpeg_quality=loaded.jpeg_quality,
            **explain.model_facts(upscaler.model, upscaler.weights.training),
        )
        upscaler.note_timings(0 if reused else encoded_pixels(loaded.width, loaded.height), encoder_seconds, out_w * out_h,
                              decoder_seconds)
        # The explanation compares what the visitor sees: colours as saved (a greyscale input gives greyscale).
        liif_seen = np.asarray(composed.convert("RGB"))
        explanation = explain.explain(facts, encoded.feat.cpu(), loaded.rgb, bicubic_rgb, liif_seen)
        scale = out_w / loaded.width
        png_path = None
        if outputs is not None:
            png_path = outputs.save(composed, f"{request.name}-liif-x{fmt.number(scale)}-{out_w}x{out_h}.png")
        finished = Run(request, model_name, composed, bicubic, liif_seen, bicubic_rgb, facts, explanation, png_path,
                       seconds_total=time.perf_counter() - start, owner=owner)
        progress(1.0, "done")
        yield finished
    finally:  # a run left early (the visitor gone) does not leave its first steps computing on their own
        steps.join()


def give_back_memory() -> None:
    """Return freed memory to the system after a run. glibc keeps freed blocks of a large run mapped,
    so a server's memory would stay at its peak long after the work that needed it; malloc_trim hands
    them back (Linux with glibc; elsewhere nothing is done)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def run_to_end(shelf: ModelShelf, model_name, request: Request, outputs=None, progress=None, owner=None) -> Run:
    """`run_steps` without the previews (for scripts and the API)."""
    *_, finished = run_steps(shelf, model_name, request, outputs, progress, update_seconds=math.inf, owner=owner)
    return finished


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
        "consistency_psnr_db": (numbers["consistency_psnr_db"] if math.isfinite(numbers["consistency_psnr_db"])
                                else None),
        "consistency_identical": math.isinf(numbers["consistency_psnr_db"]),
        "notices": list(run.request.loaded.notices),
    }


class ExampleRun:
    """One example upscaled in the background when the app starts, so the page can show a whole answer,
    with its pictures, before any visitor runs anything (and the engine's speed has followed a real run)."""

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


@dataclass
class Magnified:
    image: np.ndarray  # 2x2 tiles: input pixels | bicubic / LIIF | what was added
    box: tuple  # (x0, y0, x1, y1) in input pixels
    output_box: tuple  # the same in output pixels, for drawing on the outputs
    tile: np.ndarray = field(repr=False, default=None)  # the LIIF tile alone


def magnifier_side(run: Run, tile=None, zoom_over_output=MAGNIFIER_ZOOM_OVER_OUTPUT) -> float:
    """How many input pixels across the magnifier shows unless told: so many that a tile of `tile` pixels
    shows them `zoom_over_output` times closer than the output does."""
    sx, sy = run.scale
    return (tile or MAGNIFIER_TILE) / (zoom_over_output * math.sqrt(sx * sy))


def region_around(run: Run, centre=None, tile=None, zoom_over_output=MAGNIFIER_ZOOM_OVER_OUTPUT,
                  side=None) -> tuple:
    """The magnifier's square region (x0, y0, x1, y1) in input pixels around an output pixel (x, y);
    the image's centre when none is given. Kept inside the image. Its side is `side` input pixels, or
    magnifier_side's."""
    loaded = run.request.loaded
    w, h = loaded.width, loaded.height
    sx, sy = run.scale
    side = min(max(side or magnifier_side(run, tile, zoom_over_output), MIN_REGION_PIXELS), w, h)
    point = None if centre is None else ((centre[0] + 0.5) / sx, (centre[1] + 0.5) / sy)
    return pictures.box_around(point, (side, side), w, h)


def point_fraction(run: Run, x: float, y: float) -> tuple:
    """Output pixel (x, y) of a run as fractions of the picture's width and height (the point the zoom
    movie and the scale ladder centre on), from the pixel's centre."""
    sx, sy = run.scale
    loaded = run.request.loaded
    return (x + 0.5) / sx / loaded.width, (y + 0.5) / sy / loaded.height


def magnify(shelf: ModelShelf, run: Run, centre=None, tile=None,
            zoom_over_output=MAGNIFIER_ZOOM_OVER_OUTPUT, side=None) -> Magnified:
    """Input pixels, bicubic and LIIF for one region (`side` input pixels across, see region_around), each
    `tile` pixels a side. The LIIF tile is rendered natively at that resolution from the cached encoding,
    not cut from the output and enlarged."""
    tile = tile or MAGNIFIER_TILE
    x0, y0, x1, y1 = region_around(run, centre, tile, zoom_over_output, side)
    loaded = run.request.loaded
    with shelf.working(run.model_name, run.owner) as upscaler:
        liif = upscaler.render_region(imageio.to_tensor(loaded.rgb), (y0, x0, y1, x1), (tile, tile))
    liif_tile = np.asarray(imageio.compose_output(imageio.to_uint8(liif), loaded).convert("RGB"))
    bicubic_tile = np.asarray(bicubic_image(loaded, tile, tile, region=(x0, y0, x1, y1)).convert("RGB"))
    pixels_tile = pictures.nearest_region(loaded.rgb, (x0, y0, x1, y1), tile)
    added, _ = explain.added_detail(liif_tile, bicubic_tile)
    # Captions a tenth of the tile: the 2x2 grid is shown about 300 px wide, and they must stay readable.
    tiles = [label(tile_, text, size=tile // 10) for tile_, text in
             ((pixels_tile, "input pixels"), (bicubic_tile, "bicubic"), (liif_tile, "LIIF"), (added, "added by LIIF"))]
    sx, sy = run.scale
    return Magnified(pictures.grid_2x2(tiles), (x0, y0, x1, y1), (x0 * sx, y0 * sy, x1 * sx, y1 * sy), liif_tile)


def status_text(run: Run, waited: str = "") -> str:
    """The Done line of a run; `waited` says how long the visitor waited (wait.Wait.done_words), measured by
    the page, which alone sees the queue and the pictures sent."""
    facts = run.facts
    notices = run.request.loaded.notices
    lines = [
        f"**Done**: {facts.in_width}×{facts.in_height} → {facts.out_width}×{facts.out_height} "
        f"({run.request.scale_label()}){waited}. Click either output (or use the magnifier's x and y) to look closer.",
        model_line(facts),
    ]
    if notices:
        lines.append("Your file was read with these changes: " + "; ".join(notices) + ".")
    few = explain_words.few_pixels_text(facts.in_width, facts.in_height)
    if few:
        lines.append(few)
    return "\n\n".join(lines)


def model_line(facts: explain.RunFacts) -> str:
    """Which model made this, where and how exactly: pixels differ between machines (bf16, int8 or fp32 is
    the hardware's choice), so a result is only reproducible with all three."""
    return (f"Model `{facts.model_name}` (SHA-256 `{facts.weights_sha256[:12]}`), on {facts.device} "
            f"in {precision_words(facts.precision)}.")


def _pending_over(done_rows: np.ndarray, bicubic_rgb: np.ndarray) -> np.ndarray:
    """The rows rendered so far above the bicubic guess, faded so it is clearly not yet LIIF."""
    preview = (bicubic_rgb.astype(np.uint16) + 3 * 200) // 4  # a light veil over what is still to come
    preview = preview.astype(np.uint8)
    preview[: done_rows.shape[0]] = done_rows
    return preview


def compare_pair(run: Run) -> tuple:
    """The compare slider's two pictures, each captioned on its own side: bicubic left, LIIF right."""
    return label(run.bicubic_display, "bicubic"), label(run.liif_display, "LIIF", right=True)
