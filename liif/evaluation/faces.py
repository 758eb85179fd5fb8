"""Finding frontal faces in a picture with OpenCV's Haar cascade, for the data facts (data_facts.py).

    faces = find_faces(rgb)           # [(x, y, width, height), ...] in the picture's pixels
    count_faces(rgb)                  # how many, looked for in a copy FACE_SEARCH_SIDE pixels on its long side

The cascade is OpenCV's `haarcascade_frontalface_default.xml` (Rainer Lienhart's stump-based 24×24 frontal
face detector, Intel's licence inside the file), shipped gzipped in assets/cascades/: byte for byte the file
that OpenCV 4's wheels bundle as `cv2.data.haarcascades + "haarcascade_frontalface_default.xml"`. OpenCV 5
(the version this project pins) bundles no cascades and has no `CascadeClassifier`, so the cascade is run
here, the way OpenCV 4's `CascadeClassifier.detectMultiScale` runs it (Viola and Jones; OpenCV 4.14 itself
finds slightly different faces, which would change the shipped records: docs/architecture.md measures it):

- the grey picture (ITU-R 601 luma) is reduced by 1, 1.1, 1.21, ... (bilinear, no antialiasing) while the
  24×24 window still fits; at each size every window (every 2nd pixel, every pixel beyond a reduction of 2)
  goes through the 25 stages;
- a stage sums one leaf of each of its stumps (a Haar feature, the weighted sum of 2 or 3 rectangles read
  from the integral image, divided by the window's spread: sqrt(n·Σp² − (Σp)²) over its inner 22×22
  pixels, against the stump's threshold) and rejects the window below the stage's threshold;
- windows that pass every stage are grouped (OpenCV's `groupRectangles`, eps 0.2): a group of more than
  `min_neighbors` windows is one face, the mean of its boxes; a face inside a stronger one is dropped.

tests/test_seen.py checks it on a shipped face and on a plain gradient. A Haar cascade misses turned,
small and shaded faces and takes some textures for faces: its counts are a measurement with that method,
not the truth about a picture.
"""

import gzip
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

CASCADE_PATH = Path(__file__).resolve().parents[2] / "assets" / "cascades" / "haarcascade_frontalface_default.xml.gz"
SCALE_FACTOR = 1.1  # OpenCV's default
MIN_NEIGHBORS = 5  # stricter than OpenCV's default 3: fewer textures taken for faces
GROUP_EPS = 0.2  # OpenCV's groupRectangles
DENSE_SHARE = 0.2  # stages run on the whole grid of windows while at least this share of them is alive
GATHER_LIMIT = 4_000_000  # integral-image reads made at once (bounds the memory of one stage's gathers)
# Faces are looked for in a copy at most this large: the cascade's smallest face (24 px) there is ~96 px of a
# 2040-px training picture, the size of a training crop (48-192 px). Measured on the photo folder: at 1024 the
# detector also "found" faces in 8 of the 38 wallpapers (leaves, raindrops, sky; none shows a face), at 512 in 2.
DETECT_MAX_SIDE = 512


@dataclass(frozen=True)
class Stage:
    threshold: float
    rects: tuple  # per stump: ((x, y, w, h, weight), ...) in the window's pixels
    corner_y: np.ndarray  # (stumps, rects, 4): the rows and columns of each rectangle's corners in the window
    corner_x: np.ndarray
    weights: np.ndarray  # (stumps, rects): 0 where a feature has fewer rects
    thresholds: np.ndarray  # (stumps,)
    below: np.ndarray  # (stumps,) the leaf taken when the feature is below its threshold
    above: np.ndarray


@dataclass(frozen=True)
class Cascade:
    width: int
    height: int
    stages: tuple  # of Stage
    sha256: str
    name: str


@lru_cache(maxsize=4)
def load_cascade(path=CASCADE_PATH) -> Cascade:
    """An OpenCV cascade file (stump-based Haar, upright features: the frontal face cascades), gzipped or not."""
    path = Path(path)
    data = path.read_bytes()
    text = gzip.decompress(data) if path.suffix == ".gz" else data
    root = ET.fromstring(text).find("cascade")
    if root is None or root.findtext("featureType", "").strip() != "HAAR":
        raise ValueError(f"{path}: not an OpenCV Haar cascade")
    width, height = int(root.findtext("width")), int(root.findtext("height"))
    features = []
    for feature in root.find("features"):
        if (feature.findtext("tilted") or "0").strip() not in ("0", ""):
            raise ValueError(f"{path}: tilted Haar features are not supported")
        rects = []
        for rect in feature.find("rects"):
            x, y, w, h, weight = rect.text.split()
            rects.append((int(x), int(y), int(w), int(h), float(weight)))
        features.append(tuple(rects))
    stages = []
    for stage in root.find("stages"):
        stumps = []
        for weak in stage.find("weakClassifiers"):
            left, right, index, threshold = weak.findtext("internalNodes").split()
            if (int(left), int(right)) != (0, -1):
                raise ValueError(f"{path}: only stump cascades are supported")
            below, above = (float(v) for v in weak.findtext("leafValues").split())
            stumps.append((features[int(index)], float(threshold), below, above))
        stages.append(_stage(float(stage.findtext("stageThreshold")), stumps))
    return Cascade(width, height, tuple(stages), hashlib.sha256(text).hexdigest(), path.name.removesuffix(".gz"))


def _stage(threshold: float, stumps: list) -> Stage:
    """A stage's stumps, (rects, threshold, below, above) each, as arrays."""
    n, most = len(stumps), max(len(rects) for rects, *_ in stumps)
    corner_y, corner_x = np.zeros((n, most, 4), np.int64), np.zeros((n, most, 4), np.int64)
    weights = np.zeros((n, most))
    for s, (rects, *_rest) in enumerate(stumps):
        for r, (x, y, w, h, weight) in enumerate(rects):
            corner_y[s, r], corner_x[s, r] = (y, y, y + h, y + h), (x, x + w, x, x + w)
            weights[s, r] = weight
    return Stage(threshold, tuple(rects for rects, *_ in stumps), corner_y, corner_x, weights,
                 np.array([t for _, t, _, _ in stumps], np.float32), np.array([b for _, _, b, _ in stumps]),
                 np.array([a for _, _, _, a in stumps]))


def grey(rgb: np.ndarray) -> np.ndarray:
    """(h, w) luma in levels, ITU-R 601 as OpenCV's BGR2GRAY, rounded to whole levels."""
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return rgb.astype(np.float64)
    return np.rint(rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114]))


def resize_bilinear(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resampling with pixel centres aligned and no antialiasing (OpenCV's INTER_LINEAR), rounded."""
    h, w = image.shape

    def taps(out, size):
        pos = np.clip((np.arange(out) + 0.5) * size / out - 0.5, 0, size - 1)
        low = np.floor(pos).astype(int)
        return low, np.minimum(low + 1, size - 1), pos - low

    y0, y1, fy = taps(height, h)
    x0, x1, fx = taps(width, w)
    rows = image[y0] * (1 - fy)[:, None] + image[y1] * fy[:, None]
    return np.rint(rows[:, x0] * (1 - fx) + rows[:, x1] * fx)


def find_faces(rgb, cascade: Cascade | None = None, scale_factor: float = SCALE_FACTOR,
               min_neighbors: int = MIN_NEIGHBORS) -> list:
    """The frontal faces in a picture ((h, w, 3) or (h, w) levels): [(x, y, width, height), ...]."""
    cascade = cascade or load_cascade()
    image = grey(rgb)
    h, w = image.shape
    boxes, factor = [], 1.0
    while True:
        win_w, win_h = round(cascade.width * factor), round(cascade.height * factor)
        scaled_w, scaled_h = round(w / factor), round(h / factor)
        if scaled_w - cascade.width <= 0 or scaled_h - cascade.height <= 0:
            break
        scaled = image if factor == 1.0 else resize_bilinear(image, scaled_w, scaled_h)
        step = 1 if factor > 2 else 2
        for x, y in _windows_passing(scaled, cascade, step):
            boxes.append((round(x * factor), round(y * factor), win_w, win_h))
        factor *= scale_factor
    return group_boxes(boxes, min_neighbors)


def _windows_passing(image: np.ndarray, cascade: Cascade, step: int) -> list:
    """(x, y) of every window (of the cascade's size, every `step` pixels) that passes all stages. The first
    stages run on the whole grid of windows (strided views of the integral image), the rest on the windows
    still alive (gathered by index)."""
    h, w = image.shape
    row = w + 1
    total = np.zeros((h + 1, row))
    total[1:, 1:] = image.cumsum(0).cumsum(1)
    squares = np.zeros((h + 1, row))
    squares[1:, 1:] = (image * image).cumsum(0).cumsum(1)
    # Every window that fits, as OpenCV 4 runs them (its working size is the integral image's, one larger).
    ny, nx = (h - cascade.height) // step + 1, (w - cascade.width) // step + 1

    def at(table, dy, dx):  # table[y0 + dy, x0 + dx] for every window corner (y0, x0), as a (ny, nx) view
        return table[dy : dy + (ny - 1) * step + 1 : step, dx : dx + (nx - 1) * step + 1 : step]

    def box(table, x, y, bw, bh):
        return at(table, y + bh, x + bw) - at(table, y, x + bw) - at(table, y + bh, x) + at(table, y, x)

    # The window's spread, over its inner (width-2) x (height-2) pixels as OpenCV's normrect.
    iw, ih = cascade.width - 2, cascade.height - 2
    sums, sq = box(total, 1, 1, iw, ih), box(squares, 1, 1, iw, ih)
    spread = iw * ih * sq - sums * sums
    norm = np.where(spread > 0, np.sqrt(np.maximum(spread, 0)), 1.0)
    inverse = 1.0 / norm
    stages = cascade.stages
    alive = np.ones((ny, nx), bool)
    first = 0
    for stage in stages:  # on the whole grid while many windows are alive
        if alive.mean() < DENSE_SHARE:
            break
        score = np.zeros((ny, nx))
        for rects, threshold, below, above in zip(stage.rects, stage.thresholds, stage.below, stage.above):
            value = sum(weight * box(total, x, y, bw, bh) for x, y, bw, bh, weight in rects)
            value = (value.astype(np.float32) * inverse).astype(np.float32)
            score += np.where(value < threshold, below, above)
        alive &= score >= stage.threshold
        first += 1
    ys, xs = np.nonzero(alive)
    starts = ys * step * row + xs * step
    norm = norm[ys, xs]
    flat = total.ravel()
    for stage in stages[first:]:  # then on the windows still alive
        if starts.size == 0:
            break
        corners = stage.corner_y * row + stage.corner_x
        block = max(1, GATHER_LIMIT // corners.size)
        keep = np.concatenate([_stage_passes(stage, corners, flat, starts[i : i + block], norm[i : i + block])
                               for i in range(0, starts.size, block)])
        starts, norm = starts[keep], norm[keep]
    return [(int(s % row), int(s // row)) for s in starts]


def _stage_passes(stage: Stage, corners: np.ndarray, flat: np.ndarray, starts: np.ndarray,
                  norm: np.ndarray) -> np.ndarray:
    """Which of the windows at flat offsets `starts` of the integral image pass the stage."""
    at = corners.transpose(2, 0, 1)[..., None] + starts  # (4, stumps, rects, windows)
    rect = flat.take(at[3]) - flat.take(at[1]) - flat.take(at[2]) + flat.take(at[0])
    value = (stage.weights[..., None] * rect).sum(1)  # (stumps, windows)
    # As OpenCV computes it: the feature in single precision, times the inverse spread, against the threshold.
    value = (value.astype(np.float32) * (1.0 / norm)[None, :]).astype(np.float32)
    leaves = np.where(value < stage.thresholds[:, None], stage.below[:, None], stage.above[:, None])
    return leaves.sum(0) >= stage.threshold


def group_boxes(boxes: list, min_neighbors: int = MIN_NEIGHBORS, eps: float = GROUP_EPS) -> list:
    """OpenCV's groupRectangles: boxes joined when all four sides lie within eps x their mean size; a group of
    more than `min_neighbors` boxes gives their mean box; a group inside a stronger one is dropped."""
    n = len(boxes)
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if _similar(boxes[i], boxes[j], eps):
                parent[root(i)] = root(j)
    groups: dict = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(boxes[i])
    means = [(tuple(round(sum(b[k] for b in members) / len(members)) for k in range(4)), len(members))
             for members in groups.values()]
    strong = [(box, count) for box, count in means if count > min_neighbors]
    return sorted(box for i, (box, count) in enumerate(strong)
                  if not any(j != i and _inside(box, count, *other, eps) for j, other in enumerate(strong)))


def _inside(box, count, other, other_count, eps) -> bool:
    """`box` lies within `other` grown by eps of its size, and `other` is the stronger group."""
    dx, dy = round(other[2] * eps), round(other[3] * eps)
    return (box[0] >= other[0] - dx and box[1] >= other[1] - dy and box[0] + box[2] <= other[0] + other[2] + dx
            and box[1] + box[3] <= other[1] + other[3] + dy and (other_count > max(3, count) or count < 3))


def _similar(r1, r2, eps) -> bool:
    delta = eps * (min(r1[2], r2[2]) + min(r1[3], r2[3])) * 0.5
    return (abs(r1[0] - r2[0]) <= delta and abs(r1[1] - r2[1]) <= delta
            and abs(r1[0] + r1[2] - r2[0] - r2[2]) <= delta and abs(r1[1] + r1[3] - r2[1] - r2[3]) <= delta)


# Faces are looked for in the input resized (bicubic) to this many pixels on its long side: the cascade's
# 24-pixel window then finds a face that fills a sixth of the picture or more, in about 0.1 s on 2 cores.
FACE_SEARCH_SIDE = 160


def count_faces(rgb: np.ndarray, side: int = FACE_SEARCH_SIDE) -> int:
    """Frontal faces the Haar cascade finds in `rgb` (H, W, 3) uint8, looked for at `side` pixels on its
    long side. A measurement with that method: it misses turned and small faces."""
    h, w = rgb.shape[:2]
    if min(h, w) < 2:
        return 0
    ratio = side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    if min(size) < 24:  # a strip: no face-sized window fits
        return 0
    return len(find_faces(np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BICUBIC))))
