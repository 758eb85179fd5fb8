"""The models the page offers (`ModelShelf`): each weights file loaded once, on first use, with its lock
(one request computes at a time) and its engine's measured speed (the one cost model of the page's refusals
and estimates), and each visitor's encodings kept apart.

    shelf = ModelShelf()                                   # weights from $LIIF_WEIGHTS or weights/
    with shelf.working(shelf.default_name, owner=visitor) as upscaler:
        ...                                                # the lock held, encodings kept for `visitor`
"""

import atexit
import hashlib
import json
import threading
from collections import OrderedDict
from contextlib import ExitStack, contextmanager
from pathlib import Path

from liif import settings
from liif.core.blend import blend
from liif.core.weights import (
    PHOTO,
    SHIPPED,
    WeightsError,
    default_weights_path,
    display_label,
    list_shipped,
    load_weights,
    read_metadata,
    shipped,
)
from liif.evaluation.data_facts import facts_beside
from liif.render.engine import Speed, Upscaler

BLENDS_KEPT = 3  # blended engines kept (1.5 M parameters each for EDSR-baseline: a slider's last positions)


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
                # The shipped models in the library's order (weights.SHIPPED), then any other file by name.
                order = [m.filename for m in SHIPPED.values()]
                others = sorted((p for p in list_shipped() if p != default),
                                key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name))
                for path in [default] + others:
                    self._offer(path)
        if not self.paths and self.problem is None:
            self.problem = " ".join(f"{reason}." for reason in self.unusable.values())
        self._upscalers: dict[str, Upscaler] = {}
        # Why a model failed to load (NaN weights, a truncated file): said again at once, never loaded again
        # per request (each try held the whole file in memory again: 0.85 -> 2 GB).
        self._failed: dict[str, str] = {}
        self._hashes: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {name: threading.Lock() for name in self.paths}
        self._loading = threading.Lock()
        self._blends: OrderedDict = OrderedDict()  # blend_name -> Upscaler, the latest BLENDS_KEPT
        sharp = [(self.trained_from(name), name) for name in self.paths if self.training(name).get("adversarial")]
        self._look_real_pair = next((pair for pair in sharp if pair[0] is not None), None)  # look_real_trained

    def _offer(self, path: Path) -> None:
        """Offer a weights file if its header and architecture can be read: a corrupt file is found at
        start, with its reason, not by the first visitor (the parameters load later, on first use; the
        authors' .pth files are pickles: only loading them checks them)."""
        if path.suffix == ".safetensors":
            try:
                metadata = read_metadata(path)
            except Exception as exc:  # safetensors raises its own error type, OSError, ValueError...
                self.unusable[path.name] = f"{path.name} could not be read (truncated or corrupt?): {exc}"
                return
            if "config" not in metadata:
                self.unusable[path.name] = f"{path.name} holds no model architecture; it was not written by liif"
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
        """The model's engine, loaded on first use. Raises WeightsError with the reason if it cannot be.
        A blend's name (`blend_name`) gives a model between the sharp guesser and its twin (core/blend.py)."""
        name = name or self.default_name
        base, weight = split_blend(name)
        if weight is not None:
            return self._blended(base, weight)
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
        """The model's measured cost per pixel on this machine (loads and times it on first use). A blend
        is the same network as its ends, so it costs what they do."""
        name = split_blend(name)[0] if name else name
        upscaler = self.upscaler(name)
        if upscaler.measured_speed is not None:
            # Measured once, read freely: the photo's largest scale, asked on every upload, must not wait
            # for the model's lock while another visitor's run holds it.
            return upscaler.measured_speed
        with self.lock(name):
            return upscaler.speed()

    def measured_speed(self, name: str | None = None) -> Speed | None:
        """The model's speed if it has been measured (it is at load, then follows every run), without
        loading or timing anything; None before."""
        upscaler = self._upscalers.get(split_blend(name or self.default_name)[0])
        return None if upscaler is None else upscaler.measured_speed

    def training(self, name: str) -> dict:
        """The training record in a model's file header ({} for an authors' .pth, an unreadable record or no
        such model: nothing to go on)."""
        try:
            training = read_metadata(self.paths[name]).get("training") or "{}"
            training = json.loads(training) if isinstance(training, str) else training
        except Exception:  # safetensors raises its own error type, OSError, ValueError, KeyError...
            return {}
        return training if isinstance(training, dict) else {}

    def jpeg_trained(self) -> str | None:
        """The name of the first model trained on JPEG-compressed inputs (its training record, or one of its
        lineage, says so), if the shelf has one: the page offers it for JPEG photos."""
        for name in self.paths:
            records = [self.training(name)] + list(self.training(name).get("lineage", []))
            if any(isinstance(r, dict) and r.get("jpeg_inputs") for r in records):
                return name
        return None

    def text_trained(self) -> str | None:
        """The name of the first model trained on pictures of printed text, if the shelf has one: the model
        whose data facts (`<weights>.data.json`, written by `python -m liif data-facts` from the generator's
        text-set.json) say its pictures were a text set, or else a shipped model tagged `text`."""
        for name, path in self.paths.items():
            facts = facts_beside(path)
            if (facts or {}).get("kind") == "text" or (facts is None and getattr(shipped(path.name), "tag", None) == "text"):
                return name
        return None

    def model_named(self, model: str | None, blend: float | None = None) -> str | None:
        """The shelf's name for what a script asks for: "" (the default), a shipped model's name (`rdn`,
        `edsr-baseline-gan`, `edsr-baseline.gan`, ...) or a file name on the shelf; with `blend`, that weight of
        the way from the sharp guesser's twin to it (the model, if named, must be the sharp guesser)."""
        name = None
        if model:
            wanted = model if model in self.paths else getattr(shipped(model), "filename", model)
            if wanted not in self.paths:
                raise WeightsError(f"there is no model {model!r} here; choose one of "
                                   f"{', '.join(m.name for m in SHIPPED.values() if m.filename in self.paths)}")
            name = wanted
        if blend is None:
            return name
        pair = self.look_real_trained()
        if pair is None:
            raise WeightsError("this page has no model trained to look real, so there is nothing to blend")
        if name not in (None, pair[1]):
            raise WeightsError("a blend is of the model trained to look real and its twin; leave the model empty "
                               "or name that one")
        try:
            weight = float(blend)
        except (TypeError, ValueError):
            raise WeightsError(f"the blend {blend!r} is not a number from 0 to 1") from None
        if not 0 <= weight <= 1:
            raise WeightsError(f"a blend weight is from 0 (the average) to 1 (the sharp guess), not {weight:g}")
        return blend_name(pair[1], weight)

    def look_real_trained(self) -> tuple | None:
        """(the average-minded model, the sharp guesser): the first model trained adversarially (its training
        record says so) and the model it was fine-tuned from, when the shelf has both; else None. Read from the
        files' headers once, at start: every blended request asks."""
        return self._look_real_pair

    def _blended(self, sharp: str, weight: float) -> Upscaler:
        """The engine of `weight` of the way from the sharp model's twin to it; the last few are kept."""
        pair = self.look_real_trained()
        if pair is None or pair[1] != sharp:
            raise WeightsError(f"{sharp} is not a model trained to look real with its twin on this page: "
                               "it has nothing to blend with")
        key = blend_name(sharp, weight)
        with self._loading:
            if key in self._blends:
                self._blends.move_to_end(key)
                return self._blends[key]
        average, guesser = self.upscaler(pair[0]), self.upscaler(sharp)
        if weight in (0.0, 1.0):
            return average if weight == 0 else guesser
        engine = Upscaler(blend(average.model, guesser.model, weight), average.device, average.precision)
        engine.weights = guesser.weights  # its record: the sharp model's training, which the blend continues
        with self._loading:
            self._blends[key] = engine
            while len(self._blends) > BLENDS_KEPT:
                self._blends.popitem(last=False)
        return engine

    def trained_from(self, name: str) -> str | None:
        """The shelf's name for the model whose weights `name`'s training started from (`--init`, in its
        training record), if that file is on the shelf."""
        init = self.training(name).get("init")
        if not init:
            return None
        return next((other for other, path in self.paths.items() if path.name == Path(str(init)).name and other != name),
                    None)

    def clean_twin(self, name: str, avoid: str | None = None) -> str | None:
        """The model to set beside `name`, a model trained on something else (JPEGs, printed text): the one its
        training started from, else the shipped photo model of its architecture, else any other (`avoid` only
        when there is no other); None when the shelf has no other model."""
        others = sorted((other for other in self.names if other != name), key=lambda other: other == avoid)
        arch = getattr(shipped(name), "arch", None)
        photo = next((m.filename for m in SHIPPED.values() if (m.arch, m.tag) == (arch, PHOTO)), None)
        return next((other for other in (self.trained_from(name), photo) if other in others), (others or [None])[0])

    def sha256(self, name: str | None = None) -> str:
        """The weights file's SHA-256 (hex), so a result can be tied to the exact model that made it."""
        name = split_blend(name or self.default_name)[0]
        if name not in self._hashes:
            self._hashes[name] = hashlib.sha256(self.paths[name].read_bytes()).hexdigest()
        return self._hashes[name]

    @contextmanager
    def working(self, name: str | None = None, owner=None):
        """The model's upscaler, for one piece of work: its lock held, and its encodings kept for `owner`
        (the visitor's session) alone: an encoding of the same picture made for someone else is neither
        reused nor visible (not even as a faster run). They stay in the engine's own cache, whose size
        stays the one bound on their memory."""
        with self.working_together([name], owner) as (upscaler,):
            yield upscaler

    @contextmanager
    def working_together(self, names, owner=None):
        """`working` for several models at once (the sharp guess's pair, say): a list of their upscalers, every
        lock taken once (a blend shares its model's lock) and in one order, so two pieces of work never wait
        on each other."""
        upscalers = [self.upscaler(name) for name in names]
        with ExitStack() as held:
            for base in sorted({split_blend(name or self.default_name)[0] for name in names}):
                held.enter_context(self.lock(base))
            for upscaler in {id(u): u for u in upscalers}.values():
                held.enter_context(upscaler.encodings_in(VisitorEncodings(upscaler.encodings, owner)))
            yield upscalers

    def lock(self, name: str | None = None) -> threading.Lock:
        """Held while a model computes: an Upscaler's cache is not shared safely between threads."""
        return self._locks[split_blend(name or self.default_name)[0]]


class VisitorEncodings:
    """One visitor's encodings inside an engine's cache: filed under the visitor, seen by no one else."""

    def __init__(self, cache, owner):
        self.cache, self.owner = cache, owner

    def get(self, key):
        return self.cache.get((self.owner, key))

    def put(self, key, encoded) -> None:
        self.cache.put((self.owner, key), encoded)

    def __contains__(self, key) -> bool:
        return (self.owner, key) in self.cache


def blend_name(sharp: str, weight: float) -> str:
    """The shelf's name for the blend `weight` (0: the twin, 1: the sharp model) of a sharp model."""
    return f"{sharp}@{round(float(weight), 2):g}"


def split_blend(name: str) -> tuple:
    """(model name, blend weight or None) of a shelf name: "x.safetensors@0.5" -> ("x.safetensors", 0.5)."""
    base, at, weight = str(name).rpartition("@")
    if not at:
        return str(name), None
    try:
        value = float(weight)
    except ValueError:
        raise WeightsError(f"{name!r}: a blend is written MODEL@WEIGHT, with a weight from 0 to 1") from None
    if not 0 <= value <= 1:
        raise WeightsError(f"{name!r}: a blend weight is from 0 (the average) to 1 (the sharp guess)")
    return base, value

