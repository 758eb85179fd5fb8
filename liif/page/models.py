"""The models the page offers (`ModelShelf`): each weights file loaded once, on first use, with its lock
(one request computes at a time), its measured speed and its running costs for the page's estimates.

    shelf = ModelShelf()                                   # weights from $LIIF_WEIGHTS or weights/
    with shelf.working(shelf.default_name, owner=visitor) as upscaler:
        ...                                                # the lock held, encodings kept for `visitor`
"""

import atexit
import hashlib
import json
import threading
from contextlib import contextmanager
from pathlib import Path

from liif import settings
from liif.core.weights import (
    DEFAULT_NAMES,
    SHIPPED_MODELS,
    WeightsError,
    default_weights_path,
    display_label,
    list_shipped,
    load_weights,
    read_metadata,
)
from liif.evaluation.data_facts import facts_beside
from liif.render.engine import Speed, Upscaler

TEXT_MODEL_FILE = next(m.filename for m in SHIPPED_MODELS if m.name == "edsr-baseline-text")


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
                # The shipped models in the library's order (SHIPPED_MODELS), then any other file by name.
                others = sorted((p for p in list_shipped() if p != default),
                                key=lambda p: (DEFAULT_NAMES.index(p.name) if p.name in DEFAULT_NAMES else len(DEFAULT_NAMES), p.name))
                for path in [default] + others:
                    self._offer(path)
        if not self.paths and self.problem is None:
            self.problem = " ".join(f"{reason}." for reason in self.unusable.values())
        self._upscalers: dict[str, Upscaler] = {}
        # Why a model failed to load (NaN weights, a truncated file): said again at once, never loaded again
        # per request (each try held the whole file in memory again: 0.85 -> 2 GB).
        self._failed: dict[str, str] = {}
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
            if name in self._failed:
                raise WeightsError(self._failed[name])
            if name not in self._upscalers:
                path = self.paths[name]
                try:
                    self._upscalers[name] = Upscaler(load_weights(path), self.device, self.precision)
                except WeightsError as exc:
                    self._failed[name] = str(exc).replace(str(path), path.name)  # visitors see no server path
                    raise WeightsError(self._failed[name]) from None
            return self._upscalers[name]

    def speed(self, name: str | None = None) -> Speed:
        """The model's measured cost per pixel on this machine (loads and times it on first use)."""
        upscaler = self.upscaler(name)
        with self.lock(name):
            return upscaler.speed()

    def jpeg_trained(self) -> str | None:
        """The name of the first model trained on JPEG-compressed inputs (its training record says so), if
        the shelf has one: the page offers it for JPEG photos."""
        for name, path in self.paths.items():
            try:
                training = read_metadata(path).get("training") or "{}"
                training = json.loads(training) if isinstance(training, str) else training
            except (WeightsError, ValueError):
                continue
            records = [training] + list(training.get("lineage", []) if isinstance(training, dict) else [])
            if any(isinstance(r, dict) and r.get("jpeg_inputs") for r in records):
                return name
        return None

    def text_trained(self) -> str | None:
        """The name of the first model trained on pictures of printed text, if the shelf has one: the model
        whose data facts (`<weights>.data.json`, written by `python -m liif data-facts` from the generator's
        text-set.json) say its pictures were a text set, or else the shipped text model's file."""
        for name, path in self.paths.items():
            facts = facts_beside(path)
            if (facts or {}).get("kind") == "text" or (facts is None and path.name == TEXT_MODEL_FILE):
                return name
        return None

    def trained_from(self, name: str) -> str | None:
        """The shelf's name for the model whose weights `name`'s training started from (`--init`, in its
        training record), if that file is on the shelf."""
        try:
            training = json.loads(read_metadata(self.paths[name]).get("training") or "{}")
        except Exception:  # no such model, an authors' .pth, an unreadable record: nothing to go on
            return None
        init = training.get("init") if isinstance(training, dict) else None
        if not init:
            return None
        return next((other for other, path in self.paths.items() if path.name == Path(str(init)).name and other != name),
                    None)

    def sha256(self, name: str | None = None) -> str:
        """The weights file's SHA-256 (hex), so a result can be tied to the exact model that made it."""
        name = name or self.default_name
        if name not in self._hashes:
            self._hashes[name] = hashlib.sha256(self.paths[name].read_bytes()).hexdigest()
        return self._hashes[name]

    def record_costs(self, name: str, run) -> None:
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
