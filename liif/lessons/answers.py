"""Many answers fit: a tiny photo is consistent with countless sharp pictures.

    from liif.lessons.answers import answers
    result = answers(engine, load_image("assets/examples/astronaut-48.png"), scale=8, name="astronaut-48.png")
    for c in result.candidates: c.label, c.max_abs_levels, c.picture        # uint8, 384×384
    result.summary(), answers_sheet.markdown(result), answers_sheet.sheet(result)   # the words and the PNG

A w×h photo records, for each of its pixels, only the average of the scale × scale output pixels it
stands for. This lesson puts LIIF's own answer beside sharp pictures that are all *equally* consistent
with the input, each constructed here (not by a generative model) from a start with detail of its own:
- a donor photo: the shipped picture (assets/originals/) whose shrink, at the size and shift found by a
  small search, is closest to the input;
- LIIF's render plus fine random grain;
- the real photo, when it is known (as in the check);
- a completely different picture, resized whole to the output size.

Each start is made consistent by back-projection (answers_fit.py): `ROUNDS` rounds of
x += enlarge_bicubic(tiny - shrink(x)), clamped to [0, 1] every round, where `shrink` is the operator the
model's training inputs were made with (antialiased bicubic, `pictures.shrink_tensor`). The pictures are
then rounded to 8 bits and, where needed, corrected a few more rounds, until each one, shrunk with
`pictures.shrink` and rounded, differs from the input by at most `GOAL_LEVELS` level of 255 at every
pixel. All numbers are measured on the 8-bit pictures. The donor search is in answers_donors.py; the
sentences, the table and the sheet in answers_sheet.py. The experiment's spec (`EXPERIMENT`, at the end)
makes `python -m liif answers`, the endpoint /answers and the page's guarded step 2.
"""

import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from liif.core import fmt
from liif.core.weights import display_label
from liif.evaluation.faces import count_faces
from liif.evaluation.metrics import psnr_y
from liif.lessons import answers_sheet, check, experiment, originals
from liif.lessons.answers_donors import different_picture, find_donor, load_donors, rgb_alpha
from liif.lessons.answers_fit import GOAL_LEVELS, OPERATOR, ROUNDS, back_project, consistency, mean_abs

# tests/test_answers.py reads these two here too: the shrink's matrices and the sheet's panel height.
from liif.lessons.answers_fit import _operators as _operators
from liif.lessons.answers_sheet import SHEET_PANEL as SHEET_PANEL
from liif.lessons.sharp import guess_picture
from liif.render import imageio, pictures
from liif.render.precision import torch_threads
from liif.render.upscale import upscale_image

SCALES = check.SCALES  # whole numbers: every input pixel stands for scale × scale output pixels
DEFAULT_SCALE = 8
MIN_TINY_SIDE = 8
MAX_TINY_SIDE = 128  # a tiny photo: at ×8 this is already 1024 pixels a side
GRAIN_LEVELS = 10.0  # the random grain added to LIIF's render: its standard deviation, in levels of 255

KINDS = ("liif", "guess", "guess-fit", "donor", "texture", "real", "different")


@dataclass
class Candidate:
    """One picture that (except LIIF's own) shrinks back to the input, and how well it does."""

    kind: str  # one of KINDS
    key: str  # for file names: "liif", "donor-cat", "liif-texture", "real", "different-coffee"
    label: str  # short, for the page and the sheet
    how: str  # one line: how it was made
    picture: np.ndarray  # (H, W, 3) uint8, H, W = the input's size × scale
    max_abs_levels: int  # max |round(shrink(picture)) - tiny|, in levels of 255
    mean_abs_levels: float
    consistency_psnr_db: float  # PSNR of round(shrink(picture)) against tiny, all channels (inf: exact)
    psnr_to_real_db: float | None = None  # PSNR-Y against the real photo (scale pixels shaved), when known
    changed_levels: float = 0.0  # mean |picture - its start|: what the back-projection changed
    liif_distance_levels: float = 0.0  # mean |picture - LIIF's answer|
    rounds: int = 0  # back-projection rounds it had (0: shown as it was)
    source: str = ""  # the donor's or the different picture's name

    @property
    def constructed(self) -> bool:
        return self.rounds > 0

    def summary(self) -> dict:
        return {
            "kind": self.kind, "key": self.key, "label": self.label, "how": self.how,
            "max_abs_levels": self.max_abs_levels, "mean_abs_levels": self.mean_abs_levels,
            "consistency_psnr_db": finite(self.consistency_psnr_db),
            "psnr_to_real_db": finite(self.psnr_to_real_db), "changed_levels": self.changed_levels,
            "liif_distance_levels": self.liif_distance_levels, "rounds": self.rounds, "source": self.source,
        }


@dataclass
class Answers:
    scale: int
    tiny: np.ndarray  # (h, w, 3) uint8: the input every candidate is measured against
    candidates: list  # of Candidate, LIIF's first
    seed: int  # from the input's bytes (picture_seed) unless given: the grain and the shuffle
    seconds: float = 0.0  # the whole run
    liif_seconds: float = 0.0  # of which the LIIF render
    operator: str = OPERATOR
    rounds: int = ROUNDS
    model_name: str = ""
    notices: list = field(default_factory=list)

    @property
    def extra_seconds(self) -> float:
        """What this lesson adds to the LIIF render: the donor search and every back-projection."""
        return self.seconds - self.liif_seconds

    @property
    def size(self) -> tuple:
        """(width, height) of every candidate."""
        return self.tiny.shape[1] * self.scale, self.tiny.shape[0] * self.scale

    def candidate(self, kind: str) -> Candidate | None:
        return next((c for c in self.candidates if c.kind == kind), None)

    @property
    def fitted(self) -> list:
        """Every candidate but the models' own drawings (LIIF's and the sharp guess as drawn): the ones made to fit."""
        return [c for c in self.candidates if c.kind not in ("liif", "guess")]

    def summary(self) -> dict:
        """The API's and the command line's JSON description (a PSNR of null: it shrinks back exactly)."""
        (h, w), (big_w, big_h) = self.tiny.shape[:2], self.size
        return {
            "scale": self.scale, "tiny": {"width": w, "height": h}, "size": {"width": big_w, "height": big_h},
            "operator": self.operator, "rounds": self.rounds, "goal_levels": GOAL_LEVELS, "seed": self.seed,
            "candidates": [c.summary() for c in self.candidates],
            "sentences": answers_sheet.findings(self), "seconds": self.seconds, "liif_seconds": self.liif_seconds,
            "extra_seconds": self.extra_seconds, "model": self.model_name, "notices": list(self.notices),
        }


# -- the lesson ------------------------------------------------------------------------------------


def answers(upscaler, tiny, scale=DEFAULT_SCALE, real=None, donors=None, seed=None, name=None, progress=None,
            model_name: str = "", liif=None, sharp=None) -> Answers:
    """LIIF's answer for the tiny photo at ×scale, beside sharp answers made to shrink back to it.

    `tiny`: the tiny photo (a LoadedImage, or anything `imageio.load_image` reads). `real`: the photo it
    was shrunk from, exactly `scale` times its size (adds "the real photo" and PSNR-Y against it).
    `donors`: shipped original keys, or (name, uint8 RGB) pairs (default: every shipped original except
    the one `name`, a file name such as "cat-48.png", was cut from). `seed`: the grain's and the shuffle's
    (default: from the picture's bytes). `progress(fraction)` follows the LIIF render (the page refuses one
    over its budget before it starts, from the experiment's estimate: `EXPERIMENT` below). `liif`: the
    model's render at the output size when it is already made (as by the check, liif/lessons/guess.py):
    then the model is not run (`upscaler` may be None). `sharp`: the render of the model trained to look
    real (liif/lessons/sharp.py) at the output size: shown as drawn, and made to fit. A face (OpenCV's
    cascade finds one in the tiny photo) is given a portrait as its donor, so that detail is a face's. Bad
    input raises `imageio.ImageInputError` with one sentence.
    """
    start_time = time.perf_counter()
    loaded, rgb = tiny_photo(tiny, name)
    scale = answers_scale(scale)
    h, w = rgb.shape[:2]
    big_w, big_h = w * scale, h * scale
    real_rgb = None if real is None else _at_output_size(real, "the real photo", big_w, big_h)
    own = originals.original_for(name) if name else None
    donor_list = load_donors(donors, exclude=own)
    if donors is None and count_faces(rgb):
        faces = [d for d in donor_list if originals.ORIGINALS.get(d.name) and originals.ORIGINALS[d.name].face]
        face_donors = faces or None
    else:
        face_donors = None
    seed = picture_seed(rgb, scale) if seed is None else int(seed)

    liif_start = time.perf_counter()
    if liif is None:
        opaque = imageio.load_image(rgb)
        liif = np.asarray(upscale_image(upscaler, opaque, big_w, big_h, progress=progress).convert("RGB"))
    else:  # made before (the check's render): shown and measured as it is
        liif = _at_output_size(liif, "LIIF's render", big_w, big_h)
    liif_seconds = time.perf_counter() - liif_start

    with torch_threads(1):
        size = fmt.size(big_w, big_h)
        match = find_donor(rgb, scale, face_donors or donor_list)
        grain = np.random.default_rng(seed).normal(0.0, GRAIN_LEVELS, (big_h, big_w, 1))
        different, different_name = different_picture(rgb, scale, donor_list, exclude=match.name)
        guessed = [] if sharp is None else [
            _Start("guess-fit", "sharp-guess-fit", "the sharp guess, made to fit",
                   "the model trained to look real, as it drew the photo", _at_output_size(sharp, "the sharp guess", big_w, big_h))]
        starts = guessed + [
            _Start("donor", f"donor-{_slug(match.name)}", f"donor detail: {match.name}",
                   f"the part of {match.name} most like the input ({match.where}), resized to {size}", match.picture,
                   match.name),
            _Start("texture", "liif-texture", "LIIF + texture",
                   f"LIIF's render plus fine random grain ({GRAIN_LEVELS:.0f} levels, seed {seed})",
                   np.clip(liif + grain, 0, 255)),
        ]
        real_as_it_is = None
        if real_rgb is not None:
            back = consistency(real_rgb, rgb)["max_abs_levels"]
            if back <= GOAL_LEVELS:  # the input was made from it this way: shown untouched
                how = "the photo the input was shrunk from, unchanged: it already shrinks back "
                real_as_it_is = _Start("real", "real", "the real photo", how + answers_sheet.within_levels(back),
                                       real_rgb)
            else:
                starts.append(_Start("real", "real", "the real photo", "the photo the input was shrunk from",
                                     real_rgb))
        starts.append(_Start("different", f"different-{_slug(different_name)}",
                             f"a different picture: {different_name}", f"{different_name}, whole, resized to {size}",
                             different, different_name))
        fitted, rounds = back_project([start.picture for start in starts], rgb)

        mine = _Start("liif", "liif", "LIIF (the average)",
                     f"LIIF's own render at {size}, as the model drew it; not adjusted", liif)
        candidates = [_candidate(mine, liif, 0, rgb, liif, real_rgb, scale)]
        if sharp is not None:
            drawn = _Start("guess", "sharp-guess", "the sharp guess (as drawn)",
                           "the same network trained to look real (adversarially), as it drew the photo; not adjusted",
                           guessed[0].picture)
            candidates.append(_candidate(drawn, drawn.picture, 0, rgb, liif, real_rgb, scale))
        for start, picture, n in zip(starts, fitted, rounds):
            start.how = f"{start.how}; then {n} rounds of back-projection to fit the input"
            candidates.append(_candidate(start, picture, n, rgb, liif, real_rgb, scale))
        if real_as_it_is is not None:
            candidates.append(_candidate(real_as_it_is, real_rgb, 0, rgb, liif, real_rgb, scale))
    candidates.sort(key=lambda c: KINDS.index(c.kind))
    return Answers(scale=scale, tiny=rgb, candidates=candidates, seed=seed, seconds=time.perf_counter() - start_time,
                   liif_seconds=liif_seconds, model_name=model_name, notices=list(loaded.notices))


def tiny_photo(tiny, name=None) -> tuple:
    """(LoadedImage, its opaque uint8 RGB) of a tiny photo; what is wrong with it raises one sentence."""
    if tiny is None or (isinstance(tiny, str) and not tiny):
        raise imageio.ImageInputError("choose one of the shipped photos or upload a tiny photo first")
    label = name or (Path(tiny).name if isinstance(tiny, (str, Path)) else "the photo")
    loaded = tiny if isinstance(tiny, imageio.LoadedImage) else imageio.load_image(tiny, name=label)
    check_tiny(loaded.width, loaded.height, label)
    return loaded, np.ascontiguousarray(pictures.flatten(loaded.rgb, loaded.alpha))


def check_tiny(width: int, height: int, label: str = "the photo") -> None:
    if min(width, height) < MIN_TINY_SIDE or max(width, height) > MAX_TINY_SIDE:
        raise imageio.ImageInputError(
            f"{label} is {fmt.size(width, height)}; this lesson takes a tiny photo, {MIN_TINY_SIDE} to "
            f"{MAX_TINY_SIDE} pixels a side: shrink it first, or use a shipped photo")


def answers_scale(scale) -> int:
    return check.check_scale(scale, "the answers are made")


def picture_seed(tiny: np.ndarray, scale: int) -> int:
    """A number from the picture's bytes (and the scale): the same photo always gets the same one."""
    tiny = np.ascontiguousarray(tiny, dtype=np.uint8)
    digest = hashlib.sha256(f"{tiny.shape}x{int(scale)}".encode() + tiny.tobytes()).digest()
    return int.from_bytes(digest[:6], "big")  # 48 bits: exact in JSON and in a browser's numbers too




def _at_output_size(picture, what: str, big_w: int, big_h: int) -> np.ndarray:
    """A picture given at the output size (a render made before, the real photo) as opaque uint8 RGB."""
    rgb = np.ascontiguousarray(pictures.flatten(*rgb_alpha(picture)))
    if rgb.shape[:2] != (big_h, big_w):
        raise imageio.ImageInputError(
            f"{what} is {fmt.size(rgb.shape[1], rgb.shape[0])}; it must be {fmt.size(big_w, big_h)}, "
            "the input's size times the scale")
    return rgb


@dataclass
class _Start:
    """A candidate before it is measured: what it is, how it was made, and the picture it started from."""

    kind: str
    key: str
    label: str
    how: str
    picture: np.ndarray
    source: str = ""


def _candidate(start: _Start, picture, rounds, tiny, liif, real, scale) -> Candidate:
    fit = consistency(picture, tiny)
    return Candidate(
        kind=start.kind, key=start.key, label=start.label, how=start.how, picture=picture, rounds=rounds,
        max_abs_levels=fit["max_abs_levels"], mean_abs_levels=fit["mean_abs_levels"],
        consistency_psnr_db=fit["consistency_psnr_db"],
        psnr_to_real_db=psnr_y(picture, real, shave=scale) if real is not None else None,
        changed_levels=mean_abs(picture, start.picture), liif_distance_levels=mean_abs(picture, liif),
        source=start.source,
    )


# -- the experiment: `python -m liif answers`, /answers and the page's step 2 ---------------------------


def _liif_seconds(speeds, values) -> float:
    """LIIF's answer at the output size, from the picture's header; a picture that is not tiny, or a scale
    the answers are not made at, is refused here with its own sentence."""
    width, height = experiment.picture_size(values["picture"])
    check_tiny(width, height, Path(values["picture"]).name if isinstance(values["picture"], str) else "the photo")
    scale = answers_scale(values["scale"])
    return speeds["model"].seconds(width * height, width * height * scale * scale)


def _run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None):
    upscaler, sharp = models["model"][1], models["sharp guess"]
    picture, name, real, scale = values["picture"], values.get("name"), None, answers_scale(values["scale"])
    shipped = originals.named(picture)
    if shipped:  # its name, or its file: the tiny photo is made from it, as the check does
        real, picture = check.real_and_tiny(imageio.load_image(originals.original_path(shipped)), scale, name=picture)
        name = shipped
    for folder, what in ((out_path and Path(out_path).parent, "the sheet's folder"), (values.get("out_dir"), "--out-dir")):
        if folder:
            imageio.check_writable_folder(folder, what)
    loaded, _ = tiny_photo(picture, name)
    guessed = None if sharp is None else guess_picture(sharp[1], loaded, scale)
    path = getattr(upscaler.weights, "path", None)
    found = answers(upscaler, loaded, scale, real=real, name=name or (picture if isinstance(picture, str) else None),
                    progress=progress, model_name=display_label(path) if path else "", sharp=guessed)
    if out_path:
        imageio.save_png(answers_sheet.sheet(found), out_path)
    for i, candidate in enumerate(found.candidates if values.get("out_dir") else [], start=1):
        imageio.save_png(Image.fromarray(candidate.picture), Path(values["out_dir"]) / f"{i}-{candidate.key}.png")
    shown = [(c.picture, f"{c.label}: {fmt.plural(f'{c.max_abs_levels:g}', 'level')} off at most")
             for c in found.candidates]
    words = answers_sheet.markdown(found)
    return experiment.Outcome(found.summary(), words, shown, out_path and Path(out_path),
                              f"{len(shown)} answers side by side", text=words.replace("*", ""),
                              result=found)


EXPERIMENT = experiment.register(experiment.Experiment(
    "answers", "2. Many answers fit: sharp pictures that all shrink back to your photo", "the answers sheet",
    help="sharp pictures that all shrink back to the same tiny photo, beside LIIF's",
    description="Many answers fit: LIIF's answer for a tiny photo at ×SCALE beside sharp pictures (detail from a "
                "donor photo, LIIF plus grain, the real photo when known, a different picture) made by "
                f"back-projection to shrink back to it ({OPERATOR}) within {GOAL_LEVELS} level; prints how well "
                "each fits.",
    inputs=(experiment.Field("picture", "picture", label="photo",
                             help=f"the tiny photo ({MIN_TINY_SIDE} to {MAX_TINY_SIDE} pixels a side), or a shipped "
                                  f"one: {', '.join(originals.ORIGINALS)} (shrunk by the scale as the check does, so "
                                  "the real photo is known and is one of the answers)"),
            experiment.Field("scale", "int", DEFAULT_SCALE, choices=SCALES, help="the scale (a whole number)"),
            experiment.Field("out_dir", "text", None, label="dir", cli_only=True,
                             help="write each answer as its own full-size PNG")),
    estimate=_liif_seconds, run=_run, output="optional", endpoint_picture=True,
    models=(experiment.Role(), experiment.Role("sharp guess", "sharp", required=False)), floor=("model",),
    advice="Choose a smaller scale"))


# -- helpers ---------------------------------------------------------------------------------------


def _slug(name: str) -> str:
    text = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    return "-".join(part for part in text.split("-") if part) or "picture"


def finite(value):
    return None if value is None or not math.isfinite(value) else float(value)

