"""Many answers fit: a tiny photo is consistent with countless sharp pictures.

    from liif.lessons.answers import answers
    result = answers(engine, load_image("assets/examples/astronaut-48.png"), scale=8, name="astronaut-48.png")
    for c in result.candidates: c.label, c.max_abs_levels, c.picture        # uint8, 384×384
    result.sentences(), result.markdown(), result.summary(), result.sheet(), result.shuffled()

A w×h photo records, for each of its pixels, only the average of the scale × scale output pixels it
stands for. This lesson puts LIIF's own answer beside sharp pictures that are all *equally* consistent
with the input, each constructed here (not by a generative model) from a start with detail of its own:
- a donor photo: the shipped picture (assets/originals/) whose shrink, at the size and shift found by a
  small search, is closest to the input;
- LIIF's render plus fine random grain;
- the real photo, when it is known (as in the check);
- a completely different picture, resized whole to the output size.

Each start is made consistent by back-projection: `ROUNDS` rounds of
x += enlarge_bicubic(tiny - shrink(x)), clamped to [0, 1] every round, where `shrink` is the operator the
model's training inputs were made with (antialiased bicubic: `pictures.shrink_tensor`, which
liif/training/data.py applies as the matrices of `reduction_matrix`; this module uses those matrices in
float32, the same operator to about 1e-6). The pictures are then rounded to 8 bits and, where needed, corrected a
few more rounds, until each one, shrunk with `pictures.shrink` and rounded, differs from the input by at
most `GOAL_LEVELS` level of 255 at every pixel. All numbers are measured on the 8-bit pictures.
"""

import functools
import hashlib
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from liif.core import fmt
from liif.evaluation.metrics import psnr, psnr_y
from liif.lessons import originals
from liif.render import imageio, pictures
from liif.render.upscale import upscale_image
from liif.training.data import reduction_matrix

# What "shrink" means here, in words the page can show: the operator the model's training inputs were
# made with (pictures.shrink / shrink_tensor; torch's interpolate, bicubic, antialias=True).
OPERATOR = "antialiased bicubic shrink"
OPERATOR_CODE = 'torch.nn.functional.interpolate(mode="bicubic", antialias=True, align_corners=False)'
SCALES = (2, 3, 4, 6, 8)  # whole numbers: every input pixel stands for scale × scale output pixels
DEFAULT_SCALE = 8
MIN_TINY_SIDE = 8
MAX_TINY_SIDE = 128  # a tiny photo: at ×8 this is already 1024 pixels a side
ROUNDS = 30  # back-projection rounds on the float pictures
# At most this many more on the 8-bit pictures, until each is within GOAL_LEVELS: a few for most photos;
# dozens where the input is near black or white beside strong contrast (the clamp slows the rounds there).
INTEGER_ROUNDS = 60
GOAL_LEVELS = 1
# The donor search: the input's shape is laid over a donor at these sizes (fractions of the largest
# window of that shape the donor holds), at every shift of one input pixel. Sizes that would enlarge the
# donor (blurring its detail) are skipped, unless no size avoids it.
DONOR_SIZES = (1.0, 0.8, 0.65, 0.5)
GRAIN_LEVELS = 10.0  # the random grain added to LIIF's render: its standard deviation, in levels of 255
# The sheet: panels this high at most, labels and numbers in DejaVu Sans (assets/fonts/).
SHEET_PANEL = 320
FONTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
LABEL_SIZE, NUMBERS_SIZE = 15, 13

KINDS = ("liif", "donor", "texture", "real", "different")


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
            "consistency_psnr_db": _finite(self.consistency_psnr_db),
            "psnr_to_real_db": _finite(self.psnr_to_real_db), "changed_levels": self.changed_levels,
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
        """Every candidate but LIIF's own: the ones made to fit."""
        return [c for c in self.candidates if c.kind != "liif"]

    def shuffled(self, seed: int | None = None) -> list:
        """The candidates in an order drawn from `seed` (default: this run's, from the picture's bytes), for
        a "which one is real?" game: the same picture gives the same order."""
        order = np.random.default_rng(self.seed if seed is None else seed).permutation(len(self.candidates))
        return [self.candidates[i] for i in order]

    def summary(self) -> dict:
        """The API's and the command line's JSON description (a PSNR of null: it shrinks back exactly)."""
        (h, w), (big_w, big_h) = self.tiny.shape[:2], self.size
        return {
            "scale": self.scale, "tiny": {"width": w, "height": h}, "size": {"width": big_w, "height": big_h},
            "operator": self.operator, "rounds": self.rounds, "goal_levels": GOAL_LEVELS, "seed": self.seed,
            "candidates": [c.summary() for c in self.candidates],
            "sentences": self.sentences(), "seconds": self.seconds, "liif_seconds": self.liif_seconds,
            "extra_seconds": self.extra_seconds, "model": self.model_name, "notices": list(self.notices),
        }

    def sentences(self) -> list:
        return findings(self)

    def markdown(self) -> str:
        real = self.candidate("real") is not None
        rows = ["| answer | shrinks back: max | mean | consistency PSNR |", "| --- | --- | --- | --- |"]
        if real:
            rows = [rows[0] + " PSNR-Y to the real photo |", rows[1] + " --- |"]
        for c in self.candidates:
            row = (f"| {c.label} | {_levels(c.max_abs_levels)} | {c.mean_abs_levels:.2f} | "
                   f"{_db(c.consistency_psnr_db)} |")
            rows.append(row + (f" {_to_real(c.psnr_to_real_db)} |" if real else ""))
        how = "\n".join(f"- *{c.label}*: {c.how}" for c in self.candidates)
        timing = (f"{fmt.seconds(self.seconds)} in all, of which LIIF's render {fmt.seconds(self.liif_seconds)} "
                  f"and everything else {fmt.seconds(self.extra_seconds)}.")
        return "\n\n".join(["\n".join(rows), how, "\n".join(f"- {s}" for s in self.sentences()), timing])

    def sheet(self) -> Image.Image:
        """The input (its pixels as squares), then every candidate, side by side, each with its label and
        its numbers: one PNG."""
        big_w, big_h = self.size
        height = min(SHEET_PANEL, big_h)
        width = max(1, round(big_w * height / big_h))
        h, w = self.tiny.shape[:2]
        label_font, numbers_font = _font(LABEL_SIZE, bold=True), _font(NUMBERS_SIZE)
        panels = [(np.repeat(np.repeat(self.tiny, self.scale, 0), self.scale, 1),
                   f"the input: {w}×{h} (each square one pixel)", [f"×{self.scale} makes {big_w}×{big_h}"])]
        for c in self.candidates:
            lines = [f"shrinks back: max {_levels(c.max_abs_levels)} off",
                     f"mean {c.mean_abs_levels:.2f} levels, {_db(c.consistency_psnr_db)}"]
            if c.psnr_to_real_db is not None:
                lines.append(f"PSNR-Y to the real photo: {_to_real(c.psnr_to_real_db)}")
            panels.append((c.picture, c.label, lines))
        column = max(width, 180)
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        wrapped = [(_wrap(probe, label, label_font, column), lines) for _, label, lines in panels]
        label_lines = max(len(w_) for w_, _ in wrapped)
        number_lines = max(len(lines) for _, lines in wrapped)
        gap, line, number_line = 8, LABEL_SIZE + 5, NUMBERS_SIZE + 5
        top = 6 + label_lines * line
        bottom = 6 + number_lines * number_line
        caption = (f"Every answer but LIIF's was made here by back-projection (not by a generative model) to fit "
                   f"the input: shrunk ×{self.scale} ({self.operator}) and rounded, each lands within "
                   f"{_levels(max((c.max_abs_levels for c in self.fitted), default=0))} of it.")
        caption_lines = _wrap(probe, caption, numbers_font, len(panels) * (column + gap) - gap)
        footer = 6 + (len(caption_lines) + 1) * number_line
        sheet = Image.new("RGB", (len(panels) * (column + gap) - gap, top + height + bottom + footer), "white")
        draw = ImageDraw.Draw(sheet)
        for i, ((rgb, _, _), (label_lines_i, lines)) in enumerate(zip(panels, wrapped)):
            x = i * (column + gap)
            resample = Image.Resampling.NEAREST if i == 0 else Image.Resampling.LANCZOS
            shown = Image.fromarray(rgb)
            if shown.size != (width, height):
                shown = shown.resize((width, height), resample)
            sheet.paste(shown, (x + (column - width) // 2, top))
            for j, text in enumerate(label_lines_i):
                draw.text((x, 4 + j * line), text, fill="black", font=label_font)
            for j, text in enumerate(lines):
                draw.text((x, top + height + 4 + j * number_line), text, fill=(40, 40, 40), font=numbers_font)
        y = top + height + bottom + 4
        for j, text in enumerate(caption_lines):
            draw.text((2, y + j * number_line), text, fill="black", font=numbers_font)
        draw.text((2, y + len(caption_lines) * number_line), f"LIIF Zoom, model {self.model_name or 'LIIF'}",
                  fill=(90, 90, 90), font=numbers_font)
        return sheet


# -- the lesson ------------------------------------------------------------------------------------


def answers(upscaler, tiny, scale=DEFAULT_SCALE, real=None, donors=None, seed=None, name=None, progress=None,
            model_name: str = "", speed=None, max_seconds=None) -> Answers:
    """LIIF's answer for the tiny photo at ×scale, beside sharp answers made to shrink back to it.

    `tiny`: the tiny photo (a LoadedImage, or anything `imageio.load_image` reads). `real`: the photo it
    was shrunk from, exactly `scale` times its size (adds "the real photo" and PSNR-Y against it).
    `donors`: shipped original keys, or (name, uint8 RGB) pairs (default: every shipped original except
    the one `name`, a file name such as "cat-48.png", was cut from). `seed`: the grain's and the shuffle's
    (default: from the picture's bytes). `progress(fraction)` follows the LIIF render. With the model's
    measured `speed` and `max_seconds`, a render over that limit is refused before it starts. Bad input
    raises `imageio.ImageInputError` with one sentence.
    """
    start_time = time.perf_counter()
    if tiny is None or (isinstance(tiny, str) and not tiny):
        raise imageio.ImageInputError("choose one of the shipped photos or upload a tiny photo first")
    label = name or (Path(tiny).name if isinstance(tiny, (str, Path)) else "the photo")
    loaded = tiny if isinstance(tiny, imageio.LoadedImage) else imageio.load_image(tiny, name=label)
    scale = answers_scale(scale)
    rgb = np.ascontiguousarray(pictures.flatten(loaded.rgb, loaded.alpha))
    h, w = rgb.shape[:2]
    if min(w, h) < MIN_TINY_SIDE or max(w, h) > MAX_TINY_SIDE:
        raise imageio.ImageInputError(
            f"{label} is {fmt.size(w, h)}; this lesson takes a tiny photo, {MIN_TINY_SIDE} to {MAX_TINY_SIDE} "
            f"pixels a side: shrink it first, or use a shipped photo")
    big_w, big_h = w * scale, h * scale
    if speed is not None and max_seconds is not None:
        estimate = speed.seconds(w * h, big_w * big_h)
        if estimate > max_seconds:
            raise imageio.ImageInputError(
                f"LIIF's answer at {fmt.size(big_w, big_h)} would take about {estimate:.0f} s of computing here; "
                f"this server takes requests of up to {max_seconds:.0f} s: choose a smaller scale")
    real_rgb = _real_photo(real, big_w, big_h)
    donor_list = _donors(donors, exclude=originals.original_for(name) if name else None)
    seed = picture_seed(rgb, scale) if seed is None else int(seed)

    liif_start = time.perf_counter()
    opaque = imageio.load_image(rgb)
    liif = np.asarray(upscale_image(upscaler, opaque, big_w, big_h, progress=progress).convert("RGB"))
    liif_seconds = time.perf_counter() - liif_start

    with _one_torch_thread():
        size = fmt.size(big_w, big_h)
        match = find_donor(rgb, scale, donor_list)
        grain = np.random.default_rng(seed).normal(0.0, GRAIN_LEVELS, (big_h, big_w, 1))
        different, different_name = different_picture(rgb, scale, donor_list, exclude=match.name)
        starts = [
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
                real_as_it_is = _Start("real", "real", "the real photo", "the photo the input was shrunk from, "
                                       "unchanged: it already shrinks back " + _within(back), real_rgb)
            else:
                starts.append(_Start("real", "real", "the real photo", "the photo the input was shrunk from",
                                     real_rgb))
        starts.append(_Start("different", f"different-{_slug(different_name)}",
                             f"a different picture: {different_name}", f"{different_name}, whole, resized to {size}",
                             different, different_name))
        fitted, rounds = back_project([start.picture for start in starts], rgb)

        own = _Start("liif", "liif", "LIIF (the average)",
                     f"LIIF's own render at {size}, as the model drew it; not adjusted", liif)
        candidates = [_candidate(own, liif, 0, rgb, liif, real_rgb, scale)]
        for start, picture, n in zip(starts, fitted, rounds):
            start.how = f"{start.how}; then {n} rounds of back-projection to fit the input"
            candidates.append(_candidate(start, picture, n, rgb, liif, real_rgb, scale))
        if real_as_it_is is not None:
            candidates.append(_candidate(real_as_it_is, real_rgb, 0, rgb, liif, real_rgb, scale))
    candidates.sort(key=lambda c: KINDS.index(c.kind))
    return Answers(scale=scale, tiny=rgb, candidates=candidates, seed=seed, seconds=time.perf_counter() - start_time,
                   liif_seconds=liif_seconds, model_name=model_name, notices=list(loaded.notices))


def answers_scale(scale) -> int:
    try:
        value = float(scale)
    except (TypeError, ValueError):
        value = math.nan
    if not value.is_integer() or int(value) not in SCALES:
        offered = ", ".join(f"×{s}" for s in SCALES)
        raise imageio.ImageInputError(f"the answers are made at the scales {offered}, not {scale!r}")
    return int(value)


def picture_seed(tiny: np.ndarray, scale: int) -> int:
    """A number from the picture's bytes (and the scale): the same photo always gets the same one."""
    tiny = np.ascontiguousarray(tiny, dtype=np.uint8)
    digest = hashlib.sha256(f"{tiny.shape}x{int(scale)}".encode() + tiny.tobytes()).digest()
    return int.from_bytes(digest[:6], "big")  # 48 bits: exact in JSON and in a browser's numbers too


# -- consistency -----------------------------------------------------------------------------------


def consistency(picture: np.ndarray, tiny: np.ndarray) -> dict:
    """How far the 8-bit `picture`, shrunk to the tiny size (`pictures.shrink`: the operator, rounded to
    8 bits) is from `tiny`: max and mean |difference| in levels of 255, and its PSNR (inf: exact)."""
    h, w = tiny.shape[:2]
    small = pictures.shrink(picture, w, h)
    off = np.abs(small.astype(np.int16) - tiny.astype(np.int16))
    return {"max_abs_levels": int(off.max()), "mean_abs_levels": float(off.mean()),
            "consistency_psnr_db": psnr(small, tiny)}


def back_project(starts: list, tiny: np.ndarray, rounds: int = ROUNDS) -> tuple:
    """(8-bit pictures, rounds each had): each start ((H, W, 3) on 0..255) made to shrink back to `tiny`.

    `rounds` rounds of x += enlarge_bicubic(tiny - shrink(x)), clamped to [0, 1] every round, for all the
    starts at once; then the 8-bit pictures get up to INTEGER_ROUNDS more, each until its rounded shrink is
    within GOAL_LEVELS of `tiny` everywhere (measured with `pictures.shrink` itself).
    """
    h, w = tiny.shape[:2]
    big_h, big_w = starts[0].shape[:2]
    ops = _operators(h, w, big_h, big_w)
    target = torch.from_numpy(np.array(tiny, dtype=np.float32)).permute(2, 0, 1)[None] / 255
    x = torch.stack([torch.from_numpy(np.asarray(s, dtype=np.float32)).permute(2, 0, 1) for s in starts]) / 255
    x = x.clamp(0, 1)
    for _ in range(rounds):
        x = (x + ops.enlarge(target - ops.shrink(x))).clamp_(0, 1)
    done = [rounds] * len(starts)
    tiny_levels = target * 255
    for left in range(INTEGER_ROUNDS, -1, -1):
        x8 = (x * 255).round()
        # The matrices find the pictures still off (a level off rounds to more than GOAL_LEVELS from
        # GOAL_LEVELS + 0.5 on); `pictures.shrink` itself has the last word.
        off = (ops.shrink(x8 / 255) * 255 - tiny_levels).abs().amax(dim=(1, 2, 3))
        failing = [i for i in range(len(starts)) if off[i] >= GOAL_LEVELS + 0.499]
        if not failing:
            failing = [i for i in range(len(starts))
                       if consistency(_to_uint8(x8[i]), tiny)["max_abs_levels"] > GOAL_LEVELS]
        if not failing or not left:
            break
        index = torch.tensor(failing)
        x[index] = (x[index] + ops.enlarge(target - ops.shrink(x8[index] / 255))).clamp_(0, 1)
        for i in failing:
            done[i] += 1
    return [_to_uint8(p) for p in x8], done


@dataclass(frozen=True)
class _Operators:
    down_h: torch.Tensor  # (h, H)
    down_w: torch.Tensor  # (w, W)
    up_h: torch.Tensor  # (H, h)
    up_w: torch.Tensor  # (W, w)

    def shrink(self, x: torch.Tensor) -> torch.Tensor:
        """`pictures.shrink_tensor` of (B, 3, H, W), as its separable matrices: the same operator."""
        return (self.down_h @ x @ self.down_w.t()).clamp(0, 1)

    def enlarge(self, x: torch.Tensor) -> torch.Tensor:
        """Bicubic enlargement (torch's interpolate, align_corners=False) of (B, 3, h, w), as matrices."""
        return self.up_h @ x @ self.up_w.t()


@functools.lru_cache(maxsize=8)
def _operators(h: int, w: int, big_h: int, big_w: int) -> _Operators:
    return _Operators(reduction_matrix(big_h, h, big_h), reduction_matrix(big_w, w, big_w),
                      _enlargement_matrix(h, big_h), _enlargement_matrix(w, big_w))


def _enlargement_matrix(size: int, big: int) -> torch.Tensor:
    """(big, size) weights of bicubic interpolation from `size` to `big` pixels along one axis, read off
    the operator (it is linear and separable): image c of the batch is a spike at row c."""
    spikes = torch.eye(size, dtype=torch.float64)[:, None, :, None].expand(size, 1, size, 4).contiguous()
    columns = F.interpolate(spikes, size=(big, 4), mode="bicubic", align_corners=False)
    return columns[:, 0, :, 0].t().float().contiguous()


# -- where the detail comes from -------------------------------------------------------------------


@dataclass
class Donor:
    name: str  # short: a shipped original's key, or the caller's name
    rgb: np.ndarray  # (H, W, 3) uint8


@dataclass
class DonorMatch:
    name: str
    picture: np.ndarray  # (H, W, 3) uint8 at the output size: the start
    rms_levels: float  # how far its shrink was from the input (RMS, levels of 255)
    where: str  # the size and shift, in words


def find_donor(tiny: np.ndarray, scale: int, donors: list) -> DonorMatch:
    """The donor window (every size in DONOR_SIZES, every shift of one input pixel) whose antialiased
    shrink is closest to `tiny` (least squares), cut from the donor resized so that the window is the
    output size."""
    h, w = tiny.shape[:2]
    big_w = w * scale
    target = np.asarray(tiny, np.float64).transpose(2, 0, 1) / 255
    best = None
    for donor in donors:
        donor_h, donor_w = donor.rgb.shape[:2]
        fit_w = min(donor_w, donor_h * w / h)  # the largest window of the input's shape
        sizes = [r for r in DONOR_SIZES if big_w <= r * fit_w] or [DONOR_SIZES[0]]
        image = torch.from_numpy(np.array(donor.rgb, dtype=np.float64)).permute(2, 0, 1)[None] / 255
        for r in sizes:
            k = w / (r * fit_w)  # donor pixels -> input pixels
            small_w, small_h = max(w, round(donor_w * k)), max(h, round(donor_h * k))
            small = pictures.shrink_tensor(image, small_h, small_w)[0].numpy()
            ssd = _sliding_ssd(small, target)
            y, x = np.unravel_index(int(np.argmin(ssd)), ssd.shape)
            mse = max(0.0, float(ssd[y, x])) / target.size
            if best is None or mse < best[0]:
                best = (mse, donor, r, small_w, small_h, int(x), int(y))
    mse, donor, r, small_w, small_h, x, y = best
    resized = pictures.shrink(donor.rgb, small_w * scale, small_h * scale)
    picture = resized[y * scale : y * scale + h * scale, x * scale : x * scale + w * scale]
    where = f"its largest window of the input's shape at {r:.0%}, shifted by ({x}, {y}) input pixels"
    return DonorMatch(donor.name, np.ascontiguousarray(picture), math.sqrt(mse) * 255, where)


def _sliding_ssd(image: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Sum of squared differences between `target` (C, h, w) and every (C, h, w) window of `image`
    (C, H, W): (H - h + 1, W - w + 1). The cross term by FFT, the windows' energy by an integral image."""
    (_, big_h, big_w), (_, h, w) = image.shape, target.shape
    spectrum = np.fft.rfft2(image) * np.conj(np.fft.rfft2(target, s=(big_h, big_w)))
    cross = np.fft.irfft2(spectrum, s=(big_h, big_w)).sum(axis=0)[: big_h - h + 1, : big_w - w + 1]
    integral = np.pad((image * image).sum(axis=0).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    energy = integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w]
    return energy - 2 * cross + float((target * target).sum())


def different_picture(tiny: np.ndarray, scale: int, donors: list, exclude: str | None = None) -> tuple:
    """(picture at the output size, its name): the donor (other than `exclude`) whose whole, centred
    window of the input's shape shrinks furthest from `tiny`; the excluded one upside down if it is all."""
    h, w = tiny.shape[:2]
    others = [d for d in donors if d.name != exclude]
    if not others:
        donor = next(d for d in donors if d.name == exclude)
        others = [Donor(f"{donor.name}, upside down", np.ascontiguousarray(donor.rgb[::-1, ::-1]))]
    crops = [_centre_fit(d.rgb, w, h) for d in others]
    far = [np.abs(pictures.shrink(c, w, h).astype(np.int16) - tiny).mean() for c in crops]
    i = int(np.argmax(far))
    return pictures.shrink(crops[i], w * scale, h * scale), others[i].name


def _centre_fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The largest centred crop of `rgb` with the shape width : height."""
    h, w = rgb.shape[:2]
    crop_w = min(w, round(h * width / height))
    crop_h = min(h, round(w * height / width))
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    return np.ascontiguousarray(rgb[top : top + crop_h, left : left + crop_w])


def _donors(donors, exclude: str | None) -> list:
    if donors is None:
        donors = [key for key in originals.ORIGINALS if key != exclude] or list(originals.ORIGINALS)
    out = []
    for donor in donors:
        if isinstance(donor, Donor):
            out.append(donor)
        elif isinstance(donor, str):
            out.append(Donor(donor, _shipped(donor)))
        else:
            name, rgb = donor
            out.append(Donor(str(name), pictures.flatten(*_rgb_alpha(rgb))))
    if not out:
        raise imageio.ImageInputError("the answers need at least one donor photo")
    return out


@functools.lru_cache(maxsize=8)
def _shipped(key: str) -> np.ndarray:
    rgb = imageio.load_image(originals.original_path(key)).rgb
    rgb.setflags(write=False)  # shared by every run
    return rgb


def _rgb_alpha(source) -> tuple:
    loaded = source if isinstance(source, imageio.LoadedImage) else imageio.load_image(source)
    return loaded.rgb, loaded.alpha


def _real_photo(real, big_w: int, big_h: int) -> np.ndarray | None:
    if real is None:
        return None
    rgb = np.ascontiguousarray(pictures.flatten(*_rgb_alpha(real)))
    if rgb.shape[:2] != (big_h, big_w):
        raise imageio.ImageInputError(
            f"the real photo is {fmt.size(rgb.shape[1], rgb.shape[0])}; it must be {fmt.size(big_w, big_h)}, "
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
        changed_levels=_mean_abs(picture, start.picture), liif_distance_levels=_mean_abs(picture, liif),
        source=start.source,
    )


# -- the words -------------------------------------------------------------------------------------


def findings(result: Answers) -> list:
    """Sentences, each from this run's own numbers, true for any picture."""
    s = result.scale
    (h, w), (big_w, big_h) = result.tiny.shape[:2], result.size
    fitted = result.fitted
    liif = result.candidate("liif")
    worst = max(c.max_abs_levels for c in fitted)
    mean = float(np.mean([c.mean_abs_levels for c in fitted]))
    within = "exactly" if worst == 0 else f"to within {_levels(worst)} of 255 at every pixel"
    sentences = [
        f"**All {len(fitted)} sharp pictures fit.** Each is {fmt.size(big_w, big_h)}; shrunk ×{s} with the "
        f"{result.operator} (how the model's training inputs were made) and rounded to 8 bits, each gives the "
        f"{fmt.size(w, h)} input back {within} (on average {mean:.2f} levels off).",
    ]
    built = [c for c in fitted if c.constructed]
    if built:
        changed = [c.changed_levels for c in built]
        sentences.append(
            f"**Constructed, not generated.** The sharp ones were made here by back-projection, not by a "
            f"generative model: each started from a picture with detail finer than one input pixel of its own "
            f"({'; '.join(c.label for c in built)}) and was corrected {result.rounds} times or more by adding the "
            f"bicubic enlargement of what its shrink still missed, clamped to 0–255 each time; that changed them "
            f"by {_span(changed)} levels on average.")
    if len(fitted) > 1:
        apart = max(_mean_abs(a.picture, b.picture) for i, a in enumerate(fitted) for b in fitted[i + 1 :])
        sentences.append(
            f"**These pixels cannot tell them apart.** The sharp pictures differ from one another by up to "
            f"{apart:.1f} levels on average, yet shrink to the same tiny photo: what differs is finer than one "
            f"input pixel, which recorded only the average of the {s * s} output pixels it stands for.")
    different = result.candidate("different")
    if different is not None:
        sentences.append(
            f"**Even a different picture fits.** The different picture ({different.source}) was changed by "
            f"{different.changed_levels:.1f} levels on average to fit, each correction a {fmt.size(w, h)} difference "
            f"enlarged; it stays {different.liif_distance_levels:.1f} levels from LIIF's answer on average. What one "
            f"still sees of {different.source} in it, finer than an input pixel, is what the tiny photo does not "
            f"hold at ×{s}.")
    if liif.max_abs_levels <= GOAL_LEVELS:
        fit = "as close as the constructed ones"
    elif liif.mean_abs_levels <= 2 * GOAL_LEVELS:
        fit = "close, not exact"
    else:
        fit = "not close: this model does not reproduce its input well"
    sentences.append(
        f"**LIIF draws the average.** Its own render, not adjusted here, shrinks back to within "
        f"{_levels(liif.max_abs_levels)} ({liif.mean_abs_levels:.2f} on average, {_db(liif.consistency_psnr_db)}): "
        f"{fit}. Trained to be right on average (an L1 loss over many photos), where the input cannot decide it "
        f"draws something like the average of every picture that fits: that is why it is soft, and why it is "
        f"none of the sharp ones.")
    sentences.append(
        "**A generative upscaler picks one.** It draws one of these many fitting pictures sharp, detail and all: "
        "that is why its result looks like a new photo, and why a face it draws need not be the person's, since "
        "the tiny photo cannot tell it which one was there.")
    real = result.candidate("real")
    if real is not None:
        others = [c for c in result.candidates if c.kind != "real"]
        closest = max(others, key=lambda c: c.psnr_to_real_db)
        scores = ", ".join(f"{c.label} {_db(c.psnr_to_real_db)}" for c in others)
        rest = [c for c in fitted if c.kind != "real"]
        sentences.append(
            f"**The real photo is one of them.** Against it (PSNR-Y): {scores}; {closest.label} is the closest. "
            f"From the tiny photo alone nothing marks the real one out: it shrinks back {_within(real.max_abs_levels)}"
            + (f", the other sharp answers {_within(max(c.max_abs_levels for c in rest))}." if rest else "."))
    return sentences


# -- helpers ---------------------------------------------------------------------------------------


@contextmanager
def _one_torch_thread():
    """Torch on one thread for the lesson's own small sums (the LIIF render keeps every thread): on a busy
    2-core machine two threads waiting on each other made them 4-8x slower (measured: 1-2 s, not 0.2 s)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _to_uint8(x255: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x255.clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy())


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


def _slug(name: str) -> str:
    text = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    return "-".join(part for part in text.split("-") if part) or "picture"


def _finite(value):
    return None if value is None or not math.isfinite(value) else float(value)


def _within(n: int) -> str:
    return "exactly" if n == 0 else f"to within {_levels(n)}"


def _levels(n: int) -> str:
    return f"{n} level" if n == 1 else f"{n} levels"


def _db(value) -> str:
    if value is None:
        return "–"
    return "exact" if math.isinf(value) else f"{value:.1f} dB"


def _to_real(value) -> str:
    return "identical" if value is not None and math.isinf(value) else _db(value)


def _span(values: list) -> str:
    low, high = min(values), max(values)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f} to {high:.1f}"


@functools.lru_cache(maxsize=4)
def _font(size: int, bold: bool = False):
    path = FONTS_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line] if line else lines
