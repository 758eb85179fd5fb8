"""A run's first steps, started the moment the run starts: the first band of LIIF rows, then the encoding
of the whole picture, in a thread of their own beside the page's first picture of the run.

    steps = FirstSteps(shelf, model_name, owner, image01, (out_h, out_w), first_rows)
    rows, decoder_seconds, redraw = steps.first_band()   # waits for the first band
    encoded, encoder_seconds, reused = steps.encoding()  # waits for the whole picture's encoding

Why: on a 2-core CPU the page showed nothing of the model until the encoder had read the whole picture
(LIIF-RDN: about a second for a 64x64 photo in fp32), and Gradio wrote and sent the run's first picture
(the bicubic guess) before the encoder even started. Now the encoder starts at once, while Gradio does
that; and the first band's rows need only the top of the picture (the rows they read, plus the encoder's
context: `Upscaler.render_region`), so when that is at most half of it they are drawn from an encoding of
that part alone, with less context than the tiles take (FIRST_BAND_CONTEXT): a 64x64 photo at x8 reads
its top 18 rows, about a quarter of the encoder's time. The whole picture is encoded after them, while
the page shows them, and `redraw` says those rows are then to be drawn again from it, so the finished
picture is the full render exactly; until then they may differ from it by a level in a few pixels.
"""

import threading
import time

import torch

from liif.page.models import ModelShelf
from liif.render.engine import Upscaler, encoded_pixels

# Input pixels of encoder context below the first band's rows when they are drawn from the top of the
# picture alone (the tiles' overlap is 24): they are drawn again from the whole encoding before the run
# ends. Measured against the whole encoding's rows on the 64x64 examples and four Set14 crops at x8 (RDN,
# fp32): 12 changed at most 1 level in under 0.5% of the pixels, 8 up to 2 levels in up to 5%.
FIRST_BAND_CONTEXT = 12


def render_rows(upscaler: Upscaler, image01: torch.Tensor, out_size: tuple, row0: int, row1: int, progress=None,
                context=None):
    """Rows row0..row1 of a full render at out_size = (H, W): (1, 3, row1 - row0, W). Same pixel grid and
    cell as the full render, so bands stitched together are the full render."""
    out_h, out_w = out_size
    _, _, h, w = image01.shape
    box = (row0 * h / out_h, 0.0, row1 * h / out_h, float(w))
    return upscaler.render_region(image01, box, (row1 - row0, out_w), cell_size=(out_h, out_w), progress=progress,
                                  context=context)


class FirstSteps(threading.Thread):
    """The first band (rows 0..first_rows of a full render at out_size; none for 0) and the whole picture's
    encoding, started at once in a thread of their own; `first_band()` and `encoding()` wait for each."""

    def __init__(self, shelf: ModelShelf, model_name, owner, image01: torch.Tensor, out_size: tuple,
                 first_rows: int):
        super().__init__(name="liif-first-steps", daemon=True)
        self._work = shelf, model_name, owner, image01, out_size, first_rows
        self._band, self._encoding, self._error = None, None, None
        self._band_done = threading.Event()
        self.start()

    def run(self) -> None:
        shelf, model_name, owner, image01, out_size, first_rows = self._work
        try:
            _, _, h, w = image01.shape
            self._band = torch.empty(1, 3, 0, out_size[1]), 0.0, False
            with shelf.working(model_name, owner) as upscaler:
                # The engine caches encodings by content (for this visitor): the explanation says when it
                # reused one.
                reused = upscaler.pixels_to_encode(image01, (0.0, 0.0, float(h), float(w))) == 0
                if first_rows:
                    box = (0.0, 0.0, first_rows * h / out_size[0], float(w))
                    part = 0 < upscaler.pixels_to_encode(image01, box, FIRST_BAND_CONTEXT) < encoded_pixels(w, h)
                    rows = render_rows(upscaler, image01, out_size, 0, first_rows, context=FIRST_BAND_CONTEXT)
                    self._band = rows, upscaler.last_render_seconds[1], part
            self._band_done.set()
            with shelf.working(model_name, owner) as upscaler:
                encode_start = time.perf_counter()
                encoded = upscaler.encode(image01)
                seconds = time.perf_counter() - encode_start
            # A first band drawn from the whole picture encoded it in this run: the encoder's time is that.
            self._encoding = encoded, seconds if reused else encoded.seconds, reused
        except BaseException as exc:  # raised again where the run waits for it
            self._error = exc
        finally:
            self._band_done.set()

    def first_band(self) -> tuple:
        """(the rows (1, 3, first_rows, W), the decoder's seconds for them, whether they came from an
        encoding of part of the picture and are to be drawn again from the whole one)."""
        self._band_done.wait()
        if self._error is not None:
            raise self._error
        return self._band

    def encoding(self) -> tuple:
        """(the whole picture's encoding, the encoder's seconds in this run, whether an earlier run of this
        visitor's had encoded it)."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._encoding
