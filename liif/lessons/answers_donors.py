"""Where the answers' detail comes from (liif/lessons/answers.py): a donor photo, the shipped picture whose
shrink, at the size and shift found by a small search, is closest to the tiny photo; and a completely
different picture, the one whose shrink is furthest from it.

    match = find_donor(tiny, scale, load_donors(None, exclude="cat"))   # match.picture, match.where
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from liif.lessons import check, originals
from liif.render import imageio, pictures

# The donor search: the input's shape is laid over a donor at these sizes (fractions of the largest
# window of that shape the donor holds), at every shift of one input pixel. Sizes that would enlarge the
# donor (blurring its detail) are skipped, unless no size avoids it.
DONOR_SIZES = (1.0, 0.8, 0.65, 0.5)


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
    crops = [check.centre_fit(d.rgb, w, h) for d in others]
    far = [np.abs(pictures.shrink(c, w, h).astype(np.int16) - tiny).mean() for c in crops]
    i = int(np.argmax(far))
    return pictures.shrink(crops[i], w * scale, h * scale), others[i].name


def load_donors(donors, exclude: str | None) -> list:
    """Donors from shipped original keys, (name, picture) pairs or Donors (None: every shipped original
    meant as a donor but `exclude`, the one the tiny photo was cut from)."""
    if donors is None:
        lenders = [key for key, o in originals.ORIGINALS.items() if o.donor]
        donors = [key for key in lenders if key != exclude] or lenders
    out = []
    for donor in donors:
        if isinstance(donor, Donor):
            out.append(donor)
        elif isinstance(donor, str):
            out.append(Donor(donor, _shipped(donor)))
        else:
            name, rgb = donor
            out.append(Donor(str(name), pictures.flatten(*rgb_alpha(rgb))))
    if not out:
        raise imageio.ImageInputError("the answers need at least one donor photo")
    return out


@functools.lru_cache(maxsize=8)
def _shipped(key: str) -> np.ndarray:
    rgb = imageio.load_image(originals.original_path(key)).rgb
    rgb.setflags(write=False)  # shared by every run
    return rgb


def rgb_alpha(source) -> tuple:
    """(rgb, alpha) of a LoadedImage or of anything `imageio.load_image` reads."""
    loaded = source if isinstance(source, imageio.LoadedImage) else imageio.load_image(source)
    return loaded.rgb, loaded.alpha

