"""A held-out set of face crops for measuring what upscalers draw on faces (`python -m liif make-data faces`).

    records = make_face_set(["../shared/data/benchmark/B100/HR", "assets/originals/grace-hopper.jpg"], "faces")
    python -m liif eval --data . --sets faces --scales 4,8 ...   # reads faces/HR/*.png

Faces are what visitors bring, and no benchmark set is made of them. So: every frontal face OpenCV's Haar
cascade finds (liif/evaluation/faces.py, on a copy at most 512 pixels a side) in the given pictures, cut as
a square 1.8 times the face's side around it, at the picture's own pixels (nothing is enlarged: the crop is
the truth the upscalers are scored against). Faces whose square would be under `min_side` pixels are
skipped: shrunk 8 times they would be a few pixels. The set's record (which file, which box) is written
beside the pictures, so the same set can be made again from the same files.

Use evaluation pictures only (the benchmark sets, the shipped public-domain portraits), never training
photos: the point is faces the models never saw.
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from liif.evaluation.faces import DETECT_MAX_SIDE, find_faces

FRAME = 1.8  # the crop's side over the face's
MIN_SIDE = 96


def picture_paths(sources) -> list:
    paths = []
    for source in map(Path, sources):
        if source.is_dir():
            paths += sorted(p for p in source.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        elif source.is_file():
            paths.append(source)
        else:
            raise FileNotFoundError(f"{source} is neither a picture nor a folder")
    return paths


def detect(rgb: np.ndarray) -> list:
    """Face boxes (x, y, w, h) in `rgb`'s pixels, found on a copy at most DETECT_MAX_SIDE a side."""
    h, w = rgb.shape[:2]
    factor = max(1.0, max(h, w) / DETECT_MAX_SIDE)
    small = rgb if factor == 1 else np.asarray(Image.fromarray(rgb).resize((round(w / factor), round(h / factor)),
                                                                          Image.Resampling.BOX))
    return [tuple(round(v * factor) for v in box) for box in find_faces(small)]


def square_around(box, width: int, height: int, multiple: int = 8) -> tuple | None:
    """(x0, y0, side) of the FRAME-times square around a face, inside the picture, side a multiple of
    `multiple`; None when that square is smaller than MIN_SIDE."""
    x, y, bw, bh = box
    side = min(round(max(bw, bh) * FRAME), width, height) // multiple * multiple
    if side < MIN_SIDE:
        return None
    x0 = int(np.clip(round(x + bw / 2 - side / 2), 0, width - side))
    y0 = int(np.clip(round(y + bh / 2 - side / 2), 0, height - side))
    return x0, y0, side


def make_face_set(sources, out_dir, name: str = "faces") -> dict:
    """Write out_dir/HR/face-NN.png for every usable face in `sources` and out_dir/face-set.json."""
    out_dir = Path(out_dir)
    (out_dir / "HR").mkdir(parents=True, exist_ok=True)
    faces = []
    for path in picture_paths(sources):
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
        for box in detect(rgb):
            square = square_around(box, rgb.shape[1], rgb.shape[0])
            if square is None:
                continue
            x0, y0, side = square
            file = f"face-{len(faces):02d}.png"
            Image.fromarray(rgb[y0 : y0 + side, x0 : x0 + side]).save(out_dir / "HR" / file)
            faces.append({"file": file, "source": path.name, "face": list(box), "crop": [x0, y0, side]})
    record = {"name": name, "method": f"Haar cascade (liif/evaluation/faces.py) on a copy at most {DETECT_MAX_SIDE} "
                                      f"pixels a side; a square {FRAME} times the face's side, at least {MIN_SIDE} "
                                      "pixels, at the picture's own pixels",
              "sources": sorted({f["source"] for f in faces}), "faces": faces}
    (out_dir / "face-set.json").write_text(json.dumps(record, indent=1) + "\n")
    return record
