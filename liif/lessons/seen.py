"""What it has seen decides what it draws: the same tiny input through a model trained on photos and one
trained on printed text, side by side, with bicubic, against the real picture when it is known.

    from liif.lessons.seen import seen
    result = seen((photo_engine, text_engine), "sign", scale=4)        # a shipped picture: shrunk, truth known
    result = seen((photo_engine, text_engine), "tiny.png", 4)          # any tiny picture: truth unknown
    result = seen((photo_engine, text_engine), "tiny.png", 4, real="big.png")
    result.psnr, result.sheet(), seen_words.markdown(result), seen_words.summary(result)

The real picture is known for the shipped photos and the generated sign (liif/lessons/originals.py): given
by key or file, such a picture is shrunk by the scale exactly as the check shrinks a photo
(`check.load_real_and_tiny`); a tiny picture whose pixels are that shrink (assets/seen/sign-x4.png) is
recognised by its pixels. What each model has seen is read from its weights file's training record (the
runs it continued included) and from the data facts beside it (`liif/evaluation/data_facts.py`), never typed
in. The words are in liif/lessons/seen_words.py.
"""

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from liif.core import fmt
from liif.core.weights import WEIGHTS_DIR, LoadedModel
from liif.evaluation.card_text import held_out_gains
from liif.evaluation.data_facts import facts_beside
from liif.evaluation.metrics import psnr_y
from liif.lessons import check, experiment, originals, seen_words
from liif.render import imageio, pictures
from liif.render.sheet import Panel, sheet
from liif.render.upscale import bicubic_image, upscale_image

SCALES = check.SCALES
DEFAULT_SCALE = 4  # the models trained on scales up to x4
ROLES = ("photo model", "text model")
DIFFERENT_LEVELS = 8  # two renders' pixels this far apart (mean of the channels) count as drawn differently
# The sheet's panels are enlarged (whole pixels) to at least SHEET_MIN_HEIGHT, reduced above SHEET_MAX_HEIGHT.
SHEET_MIN_HEIGHT, SHEET_MAX_HEIGHT = 256, 512


@dataclass
class Stage:
    """One training run a model went through: its steps and pictures (from the weights file's record) and
    the data facts of its folder (None when no facts file says)."""

    steps: int
    pictures: int | None
    facts: dict | None = None
    batch_size: int | None = None


@dataclass
class Drawn:
    """One model's part: its render of the tiny input and what it had seen, oldest run first."""

    label: str
    role: str
    picture: np.ndarray  # (H, W, 3) uint8
    stages: list = field(default_factory=list)
    psnr: float | None = None  # PSNR-Y against the real picture, when it is known


@dataclass
class SeenResult:
    scale: int
    tiny: np.ndarray  # (h, w, 3): what every method was given
    bicubic: np.ndarray
    models: list  # of Drawn, the photo model first
    real: np.ndarray | None = None
    bicubic_psnr: float | None = None
    original: originals.Original | None = None  # the shipped or generated picture the tiny input came from
    name: str = "picture"
    seconds: float = 0.0
    notices: list = field(default_factory=list)
    # How much closer the text model came than the photo model on the held-out printed text the model card
    # measures them on, {"pictures": n, "gains": {scale: dB}} (liif/evaluation/card_text.py); {} where those
    # measurements are not beside the weights.
    held_out: dict = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """"text" or "photo" when the input's real picture is a known one, else None (not measured)."""
        if self.original is None:
            return None
        return "text" if isinstance(self.original, originals.Generated) else "photo"

    @property
    def psnr(self) -> dict:
        """{"bicubic", "photo model", "text model"}: dB against the real picture (None where unknown)."""
        return {"bicubic": self.bicubic_psnr, **{m.role: m.psnr for m in self.models}}

    @property
    def gain_db(self) -> float | None:
        """How much closer the text model came than the photo model (None without the real picture)."""
        first, second = (m.psnr for m in self.models)
        return None if first is None or second is None else second - first

    def difference(self) -> dict:
        """How far the two models' pictures are from each other: mean levels and the share drawn differently."""
        first, second = (m.picture.astype(np.float64) for m in self.models)
        per_pixel = np.abs(first - second).mean(axis=-1)
        return {"mean_levels": float(per_pixel.mean()), "max_levels": float(per_pixel.max()),
                "share_different": float((per_pixel >= DIFFERENT_LEVELS).mean()),
                "different_levels": DIFFERENT_LEVELS}

    @property
    def tiny_enlarged(self) -> np.ndarray:
        return np.repeat(np.repeat(self.tiny, self.scale, 0), self.scale, 1)

    def sheet(self):
        """tiny | bicubic | photo model | text model (| real), labelled, with the numbers: one PNG."""
        h, w = self.tiny.shape[:2]
        panels = [Panel(self.tiny_enlarged, f"input {w}x{h}", pixels=True), Panel(self.bicubic, "bicubic")]
        panels += [Panel(m.picture, m.role) for m in self.models]
        if self.real is not None:
            panels.append(Panel(self.real, "the real picture"))
        real_h = self.bicubic.shape[0]
        return sheet(panels, min(SHEET_MAX_HEIGHT, real_h * max(1, SHEET_MIN_HEIGHT // real_h)),
                     seen_words.sheet_caption(self), "LIIF Zoom, what it has seen decides what it draws")


def seen(models, source, scale=DEFAULT_SCALE, real=None, *, shrink: bool = False,
         working_size: int = check.DEFAULT_WORKING_SIZE, progress=None, name: str | None = None) -> SeenResult:
    """Both models' renders of the same tiny input at `scale`, beside bicubic, and each one's PSNR-Y against
    the real picture when it is known.

    `models`: two `Upscaler`s, the photo model first, each alone or in a (label, Upscaler) pair. `source`: the tiny input (a path, bytes, array or picture); a shipped picture's key
    or file ("sign", "grace-hopper"), or any photo with `shrink=True`, is the real picture instead and is
    shrunk by `scale` first. `real`: the real picture of a tiny `source`, exactly `scale` times its size.
    Bad input raises `imageio.ImageInputError`; `progress(f)` follows the two renders. (The page refuses
    what the models' speeds cannot draw in time before this runs: EXPERIMENT's estimate.)"""
    start = time.perf_counter()
    scale = check.check_scale(scale)
    engines = [m if isinstance(m, tuple) else ("", m) for m in models]  # (label, Upscaler)
    if len(engines) != 2:
        raise ValueError(f"seen compares two models (the photo model, then the text model), not {len(engines)}")
    tiny, real_rgb, original, notices, label = _inputs(source, scale, real, shrink, working_size, name)
    h, w = tiny.shape[:2]
    out_w, out_h = w * scale, h * scale
    loaded = imageio.load_image(tiny)
    bicubic = np.asarray(bicubic_image(loaded, out_w, out_h).convert("RGB"))
    drawn = []
    for i, ((given, upscaler), role) in enumerate(zip(engines, ROLES)):
        follow = None if progress is None else (lambda f, i=i: progress((i + f) / 2))
        picture = np.asarray(upscale_image(upscaler, loaded, out_w, out_h, progress=follow).convert("RGB"))
        drawn.append(Drawn(given or role, role, picture, stages_seen(upscaler),
                           None if real_rgb is None else psnr_y(picture, real_rgb, shave=scale)))
    return SeenResult(scale=scale, tiny=tiny, bicubic=bicubic, models=drawn, real=real_rgb,
                      bicubic_psnr=None if real_rgb is None else psnr_y(bicubic, real_rgb, shave=scale),
                      original=original, name=label, seconds=time.perf_counter() - start, notices=notices,
                      held_out=held_out_gains(*(_weights_path(upscaler) for _, upscaler in engines)))


def tiny_size(source, scale: int) -> tuple:
    """(width, height) of the tiny input `source` gives the models: a shipped picture's shrink, else the
    picture's own size, from its header."""
    original = originals.known(source)
    shrunk = None if original is None else _shrunk(original.key, scale, check.DEFAULT_WORKING_SIZE)
    if shrunk is not None:
        return shrunk.shape[1], shrunk.shape[0]
    return experiment.picture_size(source)


def stages_seen(upscaler) -> list:
    """What a model has seen, oldest run first: each run of its training record (and of the runs it
    continued) with the data facts of its pictures: the facts beside the weights file for its own run, and
    beside the file each later run started from (`init`) for the earlier ones."""
    weights = getattr(upscaler, "weights", None)
    path = getattr(weights, "path", None)
    if weights is None or weights.training is None:
        return []
    records = weights.lineage
    stages = []
    for i, record in enumerate(records):
        if i == len(records) - 1:
            source = path
        else:
            init = records[i + 1].get("init")
            source = _beside(path, init) if init else None
        stages.append(Stage(int(record.get("steps") or 0), record.get("n_train_images"),
                            facts_beside(source) if source else None, record.get("batch_size")))
    return stages


def _weights_path(upscaler):
    return getattr(getattr(upscaler, "weights", None), "path", None)


def _beside(path, init) -> Path:
    """The file a run started from: as recorded when it is there, else by its name beside this model's file."""
    init = Path(str(init))
    if init.is_file() or path is None:
        return init
    return Path(path).with_name(init.name)


def _inputs(source, scale, real, shrink, working_size, name) -> tuple:
    """(tiny, real or None, the known original or None, notices, name) for a request."""
    if source is None or (isinstance(source, str) and not source):
        raise imageio.ImageInputError("choose one of the shipped pictures or give a tiny picture first")
    original = originals.known(source) if real is None else None
    if original is not None or shrink:
        path = originals.known_path(original.key) if original else source
        loaded, real_rgb, tiny = check.load_real_and_tiny(path, scale, working_size, name or (original.label if original else None))
        return tiny, real_rgb, original, list(loaded.notices), name or (original.key if original else _stem(source))
    loaded = imageio.load_image(source)
    tiny = np.ascontiguousarray(pictures.flatten(loaded.rgb, loaded.alpha))
    label = name or _stem(source)
    if real is not None:
        real_rgb = imageio.load_image(real)
        real_rgb = np.ascontiguousarray(pictures.flatten(real_rgb.rgb, real_rgb.alpha))
        h, w = tiny.shape[:2]
        if real_rgb.shape[:2] != (h * scale, w * scale):
            raise imageio.ImageInputError(
                f"the real picture is {fmt.size(real_rgb.shape[1], real_rgb.shape[0])}; at ×{scale} a "
                f"{fmt.size(w, h)} tiny input needs one of exactly {fmt.size(w * scale, h * scale)}")
        return tiny, real_rgb, None, list(loaded.notices), label
    original = recognised(tiny, scale, working_size)
    if original is None:
        return tiny, None, None, list(loaded.notices), label
    _, real_rgb, _ = check.load_real_and_tiny(originals.known_path(original.key), scale, working_size)
    return tiny, real_rgb, original, list(loaded.notices), name or original.key


def recognised(tiny: np.ndarray, scale: int, working_size: int = check.DEFAULT_WORKING_SIZE):
    """The shipped or generated picture whose shrink by `scale` is exactly these pixels, else None."""
    for key in [*originals.GENERATED, *originals.ORIGINALS]:
        candidate = _shrunk(key, scale, working_size)
        if candidate is not None and candidate.shape == tiny.shape and np.array_equal(candidate, tiny):
            return originals.known(key)
    return None


@lru_cache(maxsize=64)
def _shrunk(key: str, scale: int, working_size: int):
    try:
        return check.load_real_and_tiny(originals.known_path(key), scale, working_size)[2]
    except (imageio.ImageInputError, OSError):
        return None


def _stem(source) -> str:
    return Path(str(source)).stem if isinstance(source, (str, Path)) else "picture"


def photo_twin(text: LoadedModel) -> str:
    """The photo model to compare the text model with: the model its training started from, when that file
    is here; else edsr-baseline."""
    init = (text.training or {}).get("init")
    if init:
        for candidate in (Path(str(init)), WEIGHTS_DIR / Path(str(init)).name):
            if candidate.is_file():
                return str(candidate)
    return "edsr-baseline"


def _seconds(speeds, values) -> float:
    """Both models' compute for the tiny input (from its header, or a shipped picture's shrink) at the scale."""
    scale = check.check_scale(values["scale"])
    width, height = tiny_size(values["picture"], scale)
    return sum(speed.seconds(width * height, width * height * scale * scale) for speed in speeds.values())


def _refusal(values, seconds, budget) -> str:
    scale = check.check_scale(values["scale"])
    width, height = tiny_size(values["picture"], scale)
    return (f"both models at {fmt.size(width * scale, height * scale)} from a {fmt.size(width, height)} picture "
            f"would take about {seconds:.0f} s of computing here; this server takes requests of up to "
            f"{budget:.0f} s: choose a smaller scale or a smaller picture")


def _run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None) -> experiment.Outcome:
    if values.get("real") and values.get("shrink"):
        raise imageio.ImageInputError("--real gives the real picture of a tiny IN; --shrink makes IN the real "
                                      "picture: not both")
    follow = None if progress is None else (lambda f: progress(f, "Both models: drawing the same tiny picture"))
    result = seen([models[role] for role in ROLES], values["picture"], values["scale"], real=values.get("real"),
                  shrink=bool(values.get("shrink")), progress=follow)
    if out_path is not None:
        imageio.save_png(result.sheet(), out_path)
    return experiment.Outcome(seen_words.summary(result), seen_words.markdown(result), seen_words.panels(result),
                              out_path)


EXPERIMENT = experiment.register(experiment.Experiment(
    "seen", "3. What it has seen decides what it draws", "drawing it with both models",
    help="the same tiny picture through the photo model and the text model",
    description="What it has seen decides what it draws: enlarge one tiny picture with bicubic, with a model trained "
                "on photos and with the model trained on printed text, measure each against the real picture when "
                "it is known, and say what each model was trained on (from its weights' training record and the "
                "data facts beside them).",
    inputs=(experiment.Field("picture", "picture", help=(
                "the tiny picture, or a shipped one to shrink first: "
                f"{', '.join([*originals.GENERATED, *originals.ORIGINALS])} (assets/seen/sign-x4.png is the sign's "
                "exact x4 shrink and is recognised)")),
            experiment.Field("scale", "int", DEFAULT_SCALE, choices=SCALES, help="how many times larger"),
            experiment.Field("real", "text", flag="--real", cli_only=True,
                             help="the real picture of the tiny IN, exactly scale times its size"),
            experiment.Field("shrink", "flag", False, cli_only=True,
                             help="IN is the real picture: shrink it by the scale first, as the check does")),
    models=(experiment.Role(ROLES[0], lambda found: photo_twin(found[ROLES[1]][1].weights), "--model",
                            help="the photo model (default: the model the text model's training started from, "
                                 "else edsr-baseline)"),
            experiment.Role(ROLES[1], "text", "--text-model",
                            help="the model trained on printed text (default: the shipped edsr-baseline-text)")),
    estimate=_seconds, run=_run, output="optional", endpoint_picture=True, floor=ROLES, refusal=_refusal))
