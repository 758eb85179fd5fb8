"""The inference engine: render a continuous image at any size, or any region of it, in bounded memory.

    engine = Upscaler(load_model())
    out = engine.render(image01, 512, 512)                 # (1, 3, 512, 512) in [0, 1]
    crop = engine.render_region(image01, (8, 8, 24, 24), (256, 256))

What it adds to `LIIF.query`, and why:
- the encoder runs in overlapping tiles on large inputs (whole-image encoding is why the authors' code
  runs out of memory on big photos); the overlap is chosen so the result changes by < 0.05 dB;
- the decoder's first-layer projection is computed for one band of latent rows at a time, and queries
  are decoded in chunks, so memory is bounded by the band, not the image;
- the encoder's output is cached per image (`encodings`), so the magnifier and re-renders at another scale
  skip it; whoever lends the engine to several people files each one's encodings apart (ModelShelf.working);
- a region of an image not yet encoded encodes only the input around it (the region plus the encoder's
  context), so a small crop of a large photo costs about what the crop does;
- precision: fp32, bf16 autocast where the hardware makes it fast, or the decoder's layers after the first
  in int8 (`auto` chooses: liif/render/precision.py);
- the decoder asks for a grid of rows x columns at a time (`LIIF.query_grid`), chunk by chunk.
"""

import hashlib
import math
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from liif.core import geometry
from liif.core.int8 import Int8MLP
from liif.core.model import LIIF, Projected
from liif.core.weights import LoadedModel
from liif.render import precision as precisions
from liif.render.precision import CpuFacts, cpu_facts, cpu_has_fast_bf16, pick_precision, precision_words  # noqa: F401

# Encoder tiling, in input pixels. The overlap covers most of the encoder's effective receptive field;
# tests/test_engine.py and docs/performance.md record what it changes.
TILE = 192
TILE_OVERLAP = 24
# Output pixels decoded per chunk (x4 ensemble queries). Small enough that a chunk's layers stay in the
# CPU's caches between the passes over them (8192 spent ~25% of the decoder's time waiting on memory on a
# busy 2-core machine), large enough that the per-chunk bookkeeping is small: since the grid query and
# int8's uint8 layers, 2048 took 4-8% less CPU time than 1024 in fp32, bf16 and int8 (docs/performance.md).
QUERY_CHUNK = 2048
# Latent rows projected at once (each row: width x 256 numbers), reused by every chunk inside them.
BAND_ROWS = 32
# Input pixels a region's queries reach beyond the region: the local ensemble's neighbour codes (1),
# the decoder's 3x3 unfold (1) and the bicubic residual's 4x4 support (2). The encoder's own context is
# the tile overlap on top of this.
QUERY_REACH = 4
# A region whose encoder input would cover more than this share of the image encodes the whole image
# (and caches it for the next region).
CROP_ENCODE_MAX_SHARE = 0.5


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but PyTorch sees no CUDA GPU")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("--device mps was asked for, but this PyTorch has no MPS support here")
    if name not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {name!r}: use cpu, cuda, mps or auto")
    return torch.device(name)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work: timings of asynchronous work (CUDA) need it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class Speed:
    """What one pixel costs this engine on this machine, measured by `Upscaler.speed()`."""

    encoder_seconds_per_pixel: float  # per input pixel
    decoder_seconds_per_pixel: float  # per output pixel

    def seconds(self, in_pixels: float, out_pixels: float) -> float:
        """The model's compute time for a render: encoder plus decoder."""
        return in_pixels * self.encoder_seconds_per_pixel + out_pixels * self.decoder_seconds_per_pixel


# `Upscaler.speed` times an encoder input and a decoder output of these sizes (input pixels a side,
# output pixels a side): big enough that per-call overheads are small, small enough to take about a
# second with the RDN encoder on one slow CPU core.
SPEED_PROBE_INPUT = 48
SPEED_PROBE_OUTPUT = 256


@dataclass
class Encoded:
    """An image as LIIF sees it: the normalised input and its latent codes."""

    inp: torch.Tensor  # (1, 3, h, w) in [-1, 1]
    feat: torch.Tensor  # (1, 64, h, w)
    seconds: float = 0.0  # what encoding it took


class EncodingCache(OrderedDict):
    """The latest `size` encodings, by key (a picture's fingerprint): an engine's one bound on their memory."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get(self, key) -> Encoded | None:
        if key in self:
            self.move_to_end(key)
        return super().get(key)

    def put(self, key, encoded: Encoded) -> None:
        self[key] = encoded
        while len(self) > self.size:
            self.popitem(last=False)


class Upscaler:
    def __init__(self, model: LIIF | LoadedModel, device="auto", precision="auto", tile=TILE, overlap=TILE_OVERLAP,
                 chunk=QUERY_CHUNK, cache_size=2):
        self.device = pick_device(device) if isinstance(device, str) else device
        self.precision = pick_precision(precision, self.device)
        # What the encoder computes in: int8 is the decoder's, bf16 encodes where the hardware has bf16 units.
        self.encoder_precision = precisions.encoder_precision(self.precision, self.device)
        # What the weights file says (path, training record), for the lessons; empty for a bare LIIF.
        self.weights = model if isinstance(model, LoadedModel) else LoadedModel(model)
        self.model = self.weights.model.to(self.device).eval()
        # int8: a quantised copy of the decoder's layers after the first, made once from the weights as they are now.
        self._tail = Int8MLP(self.model.imnet.layers[1:]) if self.precision == "int8" else None
        if self.device.type in ("cpu", "cuda"):
            self.model.encoder.to(memory_format=torch.channels_last)
        self.tile, self.overlap, self.chunk = tile, overlap, chunk
        # Where encodings are kept: anything with get(key), put(key, encoded) and `in`. A page that lends the
        # engine to visitors puts each one's encodings apart while it holds the engine (ModelShelf.working).
        self.encodings = EncodingCache(cache_size)
        self._speed = None
        self.last_render_seconds = (0.0, 0.0)  # the latest render_region's (encoder, decoder) seconds
        self._renders_noted = 0

    def share_encodings(self, other: "Upscaler") -> None:
        """Read and fill `other`'s encoder cache: for a comparison of two engines that encode alike (fp32 and
        int8 differ only in the decoder), so each picture is encoded once."""
        if (self.encoder_precision, self.tile, self.overlap, self.device) != (
                other.encoder_precision, other.tile, other.overlap, other.device):
            raise ValueError("only engines that encode alike (same encoder precision, tiles and device) share encodings")
        self.encodings = other.encodings

    @contextmanager
    def encodings_in(self, store):
        """Encodings made or reused inside are kept in `store` (the caller holds the engine alone)."""
        previous, self.encodings = self.encodings, store
        try:
            yield self
        finally:
            self.encodings = previous

    @property
    def measured_speed(self) -> Speed | None:
        """`speed()` if it has been measured, else None (without measuring)."""
        return self._speed

    def speed(self, repeats: int = 3) -> Speed:
        """Seconds per encoder input pixel and per decoder output pixel, measured once on this machine
        (the fastest of `repeats`: on a shared machine the slower runs measure the neighbours). The probe
        goes through `encode` and `render_region`, the path every request takes, so it prices their work."""
        if self._speed is None:
            generator = torch.Generator().manual_seed(0)
            probe = torch.rand(1, 3, SPEED_PROBE_INPUT, SPEED_PROBE_INPUT, generator=generator)
            box = (0.0, 0.0, float(SPEED_PROBE_INPUT), float(SPEED_PROBE_INPUT))
            encoder, decoder = math.inf, math.inf
            for _ in range(repeats):
                with self.encodings_in(EncodingCache(1)):  # a fresh encoding each time, never a visitor's
                    encoder = min(encoder, self.encode(probe).seconds)
                    start = time.perf_counter()
                    self.render_region(probe, box, (SPEED_PROBE_OUTPUT, SPEED_PROBE_OUTPUT))
                    decoder = min(decoder, time.perf_counter() - start)
            self._speed = Speed(encoder / SPEED_PROBE_INPUT**2, decoder / SPEED_PROBE_OUTPUT**2)
        return self._speed

    def note_timings(self, in_pixels: int, encoder_seconds: float, out_pixels: int, decoder_seconds: float) -> None:
        """Follow the machine's real speed with a finished render's own timings: each cost per pixel moves
        SPEED_FOLLOW of the way to what the render measured, by at most a factor SPEED_STEP per render.

        Keeping only the lowest cost ever seen (as this once did) drifted to the cheapest shape of work
        (large square outputs) and then under-priced others: a 400x20 photo at x8 took 1.7x its estimate.
        Following recovers from a speed measured while the machine was busy at start, and one slow render
        (a busy neighbour) moves the estimate by at most SPEED_STEP."""
        if self._speed is None:
            return
        self._renders_noted += 1
        if self._renders_noted == 1:
            return  # the first render pays one-off costs (kernels chosen for new shapes): not the speed
        encoder, decoder = self._speed.encoder_seconds_per_pixel, self._speed.decoder_seconds_per_pixel
        if in_pixels >= SPEED_PROBE_INPUT**2 and encoder_seconds > 0:
            encoder = _follow(encoder, encoder_seconds / in_pixels)
        if out_pixels >= SPEED_PROBE_OUTPUT**2 and decoder_seconds > 0:
            decoder = _follow(decoder, decoder_seconds / out_pixels)
        self._speed = Speed(encoder, decoder)

    # -- stage 1: encoder ---------------------------------------------------------------------------

    def autocast(self, precision=None):
        """The engine's precision (or `precision`) as a context, bf16 autocast or nothing for fp32: a lesson
        that runs the model's formula on its own computes at the precision the renders do."""
        enabled = (precision or self.precision) == "bf16"
        device_type = "cuda" if self.device.type == "cuda" else "cpu"
        return torch.autocast(device_type, dtype=torch.bfloat16, enabled=enabled and self.device.type != "mps")

    @torch.no_grad()
    def encode(self, image01: torch.Tensor) -> Encoded:
        """Latent codes of a (1, 3, h, w) image in [0, 1]; cached by content in `encodings`."""
        key = _fingerprint(image01)
        cached = self.encodings.get(key)
        if cached is not None:
            return cached
        start = time.perf_counter()
        inp = geometry.normalise(image01.to(self.device, torch.float32))
        with self.autocast(self.encoder_precision):
            feat = encode_tiled(self.model, inp, self.tile, self.overlap).float()
        encoded = Encoded(inp, feat, time.perf_counter() - start)
        self.encodings.put(key, encoded)
        return encoded

    # -- stage 2 and 3: decoder at chosen coordinates -----------------------------------------------

    @torch.no_grad()
    def render(self, image01: torch.Tensor, out_height: int, out_width: int, progress=None) -> torch.Tensor:
        """The whole image at out_height x out_width -> (1, 3, H, W) in [0, 1]."""
        _, _, h, w = image01.shape
        return self.render_region(image01, (0.0, 0.0, float(h), float(w)), (out_height, out_width),
                                  cell_size=(out_height, out_width), progress=progress)

    @torch.no_grad()
    def render_region(self, image01, box, out_size, cell_size=None, progress=None, local_ensemble=None,
                      context=None) -> torch.Tensor:
        """Render the sub-rectangle `box` = (top, left, bottom, right), in input-pixel units, at
        out_size = (rows, cols) pixels.

        The region's own pixel grid decides each query's position and cell, so a region of a full
        render's grid equals that crop of the full render. `cell_size` = (H, W) overrides the cell as
        that of a full render of H x W (used by `render`; equal by construction). `local_ensemble` overrides
        the model's own switch for this render (the probe shows what it changes). `context`: the input
        pixels of encoder context around a region that encodes only its part of the picture (default the
        tile overlap; a preview that is drawn again later may take less, liif/page/first_rows.py).
        """
        rows, cols = out_size
        if rows < 1 or cols < 1:
            raise ValueError(f"output size must be at least 1x1, got {rows}x{cols}")
        _, _, h, w = image01.shape
        encode_start = time.perf_counter()
        # The whole image's encoding when it is cached or the region is most of it, else only the part the
        # queries reach plus the encoder's context (tile overlap), encoded on its own; (y0, x0) is its corner.
        window = self._encode_window(image01, box, context)
        y0, x0, y1, x1 = window or (0, 0, h, w)
        enc = self.encode(image01 if window is None else image01[:, :, y0:y1, x0:x1])
        encode_seconds = time.perf_counter() - encode_start  # about 0 when the encoding was cached
        _, _, hc, wc = enc.feat.shape
        # The same points in the encoded part's own coordinates (a linear map: nothing is resampled).
        top, left, bottom, right = box
        ys, xs, cell = geometry.region_grid((top - y0, left - x0, bottom - y0, right - x0), out_size, hc, wc,
                                            device=self.device)
        if cell_size is not None:
            cell = torch.tensor([2.0 / cell_size[0] * h / hc, 2.0 / cell_size[1] * w / wc], device=self.device)
        out = torch.empty(rows, cols, 3, device=self.device)
        start = time.perf_counter()
        rows_per_chunk = max(1, self.chunk // cols)
        last_row = _latent_rows(ys, hc)[1]
        band = None
        tail = self._tail.render_pass() if self._tail is not None else None  # int8: one pass per render
        for r0 in range(0, rows, rows_per_chunk):
            r1 = min(rows, r0 + rows_per_chunk)
            band = self._band_for(enc, ys[r0:r1], last_row, band)
            with self.autocast():
                pred = self.model.query_grid(band, ys[r0:r1], xs, cell, enc.inp, tail=tail, local_ensemble=local_ensemble)
            out[r0:r1] = pred.float().view(r1 - r0, cols, 3)
            if progress is not None:
                progress(r1 / rows)
        self.last_render_seconds = encode_seconds, time.perf_counter() - start
        return geometry.denormalise(out).permute(2, 0, 1).unsqueeze(0)

    def _encode_window(self, image01, box, context=None):
        """(y0, x0, y1, x1) of the part a region render encodes, or None for the whole image."""
        _, _, h, w = image01.shape
        if _fingerprint(image01) in self.encodings:
            return None
        top, left, bottom, right = box
        margin = (self.overlap if context is None else context) + QUERY_REACH
        y0, x0 = max(0, math.floor(top) - margin), max(0, math.floor(left) - margin)
        y1, x1 = min(h, math.ceil(bottom) + margin), min(w, math.ceil(right) + margin)
        if (y1 - y0) * (x1 - x0) > CROP_ENCODE_MAX_SHARE * h * w:
            return None
        return y0, x0, y1, x1

    def pixels_to_encode(self, image01, box, context=None) -> int:
        """Input pixels the encoder will read for a render of `box` (top, left, bottom, right) now: 0 when
        the whole image is in `encodings`, the region and its context when that is enough."""
        window = self._encode_window(image01, box, context)
        if window is None:
            _, _, h, w = image01.shape
            return 0 if _fingerprint(image01) in self.encodings else encoded_pixels(w, h, self.tile, self.overlap)
        y0, x0, y1, x1 = window
        return (y1 - y0) * (x1 - x0)

    def _band_for(self, enc: Encoded, ys: torch.Tensor, last_row: int, band: Projected | None) -> Projected:
        """The projected latent rows that queries at rows `ys` reach: `band` again when it holds them all,
        else a new band from the first of them, BAND_ROWS deep (at most to `last_row`, the last row the
        render needs). A chunk of queries covers a fraction of a latent row at large scales: projecting
        each chunk's own rows (as this once did) projected every row ~5 times, 10-17% of a render."""
        r0, r1 = _latent_rows(ys, enc.feat.shape[2])
        if band is not None and band.row_offset <= r0 and r1 <= band.row_offset + band.first_layer.shape[1] // band.width:
            return band
        return self._project_rows(enc, r0, max(r1, min(last_row, r0 + BAND_ROWS)))

    def _project_rows(self, enc: Encoded, r0: int, r1: int) -> Projected:
        """The decoder's first layer on the latent rows r0..r1 (the 3x3 unfold reads one more each side)."""
        _, _, h, w = enc.feat.shape
        halo0, halo1 = max(0, r0 - 1), min(h, r1 + 1)
        with self.autocast():
            proj = self.model.project(enc.feat[:, :, halo0:halo1])
        d = proj.first_layer.shape[-1]
        band = proj.first_layer.view(1, halo1 - halo0, w, d)[:, r0 - halo0 : r1 - halo0].reshape(1, -1, d)
        return Projected(band, h, w, row_offset=r0)


def _latent_rows(ys: torch.Tensor, h: int) -> tuple:
    """(first, end) of the latent rows that queries at output rows `ys` ([-1, 1] units) can reach: the
    nearest code's row with a margin of 2 (the ensemble's neighbour row and rounding)."""
    iy = ((ys + 1) * h - 1) / 2
    return max(0, math.floor(iy.min().item()) - 2), min(h, math.ceil(iy.max().item()) + 3)


def tile_windows(height: int, width: int, tile: int = TILE, overlap: int = TILE_OVERLAP) -> list:
    """How encode_tiled reads a picture: ((y0, x0, y1, x1) kept, (ya, xa, yb, xb) read) per tile; a
    picture that fits one tile with its overlaps is one window, read whole."""
    if height <= tile + 2 * overlap and width <= tile + 2 * overlap:
        return [((0, 0, height, width), (0, 0, height, width))]
    windows = []
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            y1, x1 = min(height, y0 + tile), min(width, x0 + tile)
            read = (max(0, y0 - overlap), max(0, x0 - overlap), min(height, y1 + overlap), min(width, x1 + overlap))
            windows.append(((y0, x0, y1, x1), read))
    return windows


def encoded_pixels(width: int, height: int, tile: int = TILE, overlap: int = TILE_OVERLAP) -> int:
    """Input pixels the encoder reads for a whole picture, the tiles' overlaps included: a wide strip pays
    for them more than a square does (400x20 reads 9,760 pixels, not 8,000). The compute estimates price
    the encoder by this count."""
    return sum((yb - ya) * (xb - xa) for _, (ya, xa, yb, xb) in tile_windows(height, width, tile, overlap))


def encode_tiled(model: LIIF, inp: torch.Tensor, tile: int, overlap: int) -> torch.Tensor:
    """Run the encoder on overlapping tiles (tile_windows), keep each tile's centre. Exact when overlap >=
    the encoder's receptive field; in practice a small overlap is invisible (measured in tests)."""
    _, _, h, w = inp.shape
    windows = tile_windows(h, w, tile, overlap)
    if len(windows) == 1:
        return model.encode(inp.contiguous(memory_format=torch.channels_last))
    out = None
    for (y0, x0, y1, x1), (ya, xa, yb, xb) in windows:
        piece = model.encode(inp[:, :, ya:yb, xa:xb].contiguous(memory_format=torch.channels_last))
        if out is None:
            out = inp.new_empty(1, piece.shape[1], h, w, dtype=piece.dtype)
        out[:, :, y0:y1, x0:x1] = piece[:, :, y0 - ya : y0 - ya + (y1 - y0), x0 - xa : x0 - xa + (x1 - x0)]
    return out


SPEED_FOLLOW = 0.5  # how far one render moves a cost per pixel towards its own measurement
SPEED_STEP = 2.0  # ... and by at most this factor


def _follow(cost: float, measured: float) -> float:
    measured = min(max(measured, cost / SPEED_STEP), cost * SPEED_STEP)
    return cost + SPEED_FOLLOW * (measured - cost)


def _fingerprint(image: torch.Tensor) -> str:
    data = image.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
    return hashlib.blake2b(data, digest_size=16).hexdigest() + str(tuple(image.shape))
