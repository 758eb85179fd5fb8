"""Measured facts about what a model has seen: its training pictures, counted, never typed in.

    facts = folder_facts("../shared/data/train/natural")            # photos: sources by file-name prefix
    facts = folder_facts("/work/text-data/train")                    # a text set: read from its text-set.json
    write_facts(facts, "weights/edsr-baseline-liif.data.json")      # `python -m liif data-facts FOLDER --json OUT`
    facts_beside("weights/edsr-baseline-liif.safetensors")         # the facts file beside a weights file, or None

For a folder it counts the pictures, their megapixels as stored and as training reads them (a picture
larger than `max_side` is reduced to it first, as `liif.training.data.decode` does), the share of that area
from each source, and how many pictures show a face (faces.py: OpenCV's Haar cascade), as a count and as
the share of the training area those pictures make: training draws its crops from the pictures in
proportion to their area, so a share of area is a share of what the model saw.

Sources: for photos, the file-name prefix before the first "_" (bsds500_, t91_, wallpaper_; the folder's
README in ../shared/data says what each is), with the licences of a WALLPAPERS.csv beside the folder; for a
set made by `python -m liif make-data text`, the generator's record (text-set.json): its seed, fonts, glyph
heights and the kind of background of each picture.
"""

import csv
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from liif.evaluation import faces

FACTS_SUFFIX = ".data.json"
TEXT_RECORD = "text-set.json"  # what liif.training.text_pictures writes beside HR/
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}  # what training reads too
TRAINING_MAX_SIDE = 2040  # TrainConfig.max_side's default (the CLI passes the config's own value)
SOURCE_LABELS = {
    "bsds500": "BSDS500 (Berkeley segmentation photos)",
    "t91": "T91 (Yang et al. 2010, small photos)",
    "wallpaper": "photographs from Debian wallpaper packages",
}
BACKGROUND_LABELS = {
    "plain": "plain colour", "linear": "linear gradient", "radial": "radial gradient", "noise": "smooth noise",
    "photo": "faded crop of a shipped photo",
}


def picture_files(folder) -> list:
    """The pictures training would read from a folder (its own files, sorted, by suffix)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    return [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in PICTURE_SUFFIXES]


def text_record(folder) -> tuple:
    """(the text set's record, its pictures' folder) when `folder` is a text set (the folder holding
    text-set.json, or its HR/); (None, folder) otherwise."""
    folder = Path(folder)
    for root in (folder, folder.parent):
        record = root / TEXT_RECORD
        if record.is_file() and (root / "HR").is_dir() and folder in (root, root / "HR"):
            return json.loads(record.read_text()), root / "HR"
    return None, folder


def training_size(width: int, height: int, max_side: int | None) -> tuple:
    """The size training reads a picture at: reduced to `max_side` on its long side, if larger."""
    if max_side and max(width, height) > max_side:
        ratio = max_side / max(width, height)
        return round(width * ratio), round(height * ratio)
    return width, height


def folder_facts(folder, files=None, max_side: int | None = TRAINING_MAX_SIDE, detect_faces: bool = True,
                 detect_max_side: int = faces.DETECT_MAX_SIDE, progress=None) -> dict:
    """The facts of a folder of training pictures (see the module's words). `files` are the pictures to count
    (default: `picture_files` of the folder, or of a text set's HR/); `progress(done, count)` after each."""
    started = time.perf_counter()
    record, pictures_dir = text_record(folder)
    files = [Path(f) for f in (files if files is not None else picture_files(pictures_dir))]
    if not files:
        raise FileNotFoundError(f"no pictures in {pictures_dir}")
    sizes, areas = [], []
    for path in files:
        with Image.open(path) as im:
            sizes.append(im.size)
        areas.append(int(np.prod(training_size(*sizes[-1], max_side))))
    total_area = sum(areas)
    facts = {
        "folder": str(folder), "kind": "text" if record else "photos", "pictures": len(files),
        "megapixels": round(sum(w * h for w, h in sizes) / 1e6, 3), "training_max_side": max_side,
        "training_megapixels": round(total_area / 1e6, 3),
    }
    if record:
        background = {Path(entry["file"]).name: entry.get("background", "unknown") for entry in record.get("files", [])}
        facts["sources"] = _shares([background.get(p.name, "unknown") for p in files], areas, BACKGROUND_LABELS)
        facts["text"] = _text_facts(record, files)
    else:
        facts["sources"] = _shares([_prefix(p) for p in files], areas, SOURCE_LABELS)
        licences = _licences(Path(folder), files)
        if licences:
            facts["licences"] = licences
    if detect_faces:
        facts["faces"] = _face_facts(files, areas, detect_max_side, progress)
    facts["seconds"] = round(time.perf_counter() - started, 1)
    return facts


def write_facts(facts: dict, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n")
    return path


def facts_beside(weights_path) -> dict | None:
    """The facts file beside a weights file (what its training pictures were: weights/NAME.safetensors ->
    weights/NAME.data.json), or None when there is none or it cannot be read."""
    if weights_path is None:
        return None
    try:
        facts = json.loads(Path(weights_path).with_suffix(FACTS_SUFFIX).read_text())
    except (OSError, ValueError):
        return None
    return facts if isinstance(facts, dict) else None


# -- the parts -------------------------------------------------------------------------------------


def _prefix(path: Path) -> str:
    return path.stem.split("_", 1)[0].lower() if "_" in path.stem else "other"


def _shares(keys: list, areas: list, labels: dict) -> list:
    """[{key, label, pictures, training_megapixels, area_share}], the largest share first."""
    total, summed = sum(areas), {}
    for key, area in zip(keys, areas):
        pictures, so_far = summed.get(key, (0, 0))
        summed[key] = pictures + 1, so_far + area
    return [{"key": key, "label": labels.get(key, key), "pictures": pictures,
             "training_megapixels": round(area / 1e6, 3), "area_share": round(area / total, 4)}
            for key, (pictures, area) in sorted(summed.items(), key=lambda kv: -kv[1][1])]


def _licences(folder: Path, files: list) -> dict:
    """{licence: pictures} for the files a WALLPAPERS.csv (in the folder or its parent) lists."""
    listing = next((p for p in (folder / "WALLPAPERS.csv", folder.parent / "WALLPAPERS.csv") if p.is_file()), None)
    if listing is None:
        return {}
    names = {p.name for p in files}
    with open(listing, newline="") as f:
        found = Counter(row["license"] for row in csv.DictReader(f) if row.get("file") in names and row.get("license"))
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def _text_facts(record: dict, files: list) -> dict:
    """What the generator's record says of the set, checked against the files (their SHA-256)."""
    entries = {Path(entry["file"]).name: entry for entry in record.get("files", [])}
    listed = [entries[p.name] for p in files if p.name in entries]
    matching = sum(hashlib.sha256(p.read_bytes()).hexdigest() == entries[p.name].get("sha256")
                   for p in files if p.name in entries)
    heights = sorted({h for entry in listed for h in entry.get("glyph_heights", [])})
    return {
        "generator": record.get("generator"), "version": record.get("version"), "seed": record.get("seed"),
        "count": record.get("count"), "files_matching_record": matching,
        "fonts": [Path(f).name for f in record.get("fonts", [])],
        "background_photos": [Path(p).name for p in record.get("photos", [])],
        "glyph_heights": [heights[0], heights[-1]] if heights else None,
        "lines": sum(int(entry.get("lines", 0)) for entry in listed),
    }


def _face_facts(files: list, areas: list, detect_max_side: int, progress=None) -> dict:
    cascade = faces.load_cascade()
    started = time.perf_counter()
    with_faces, face_area, found = [], 0.0, 0
    for i, (path, area) in enumerate(zip(files, areas)):
        rgb = _detection_copy(path, detect_max_side)
        boxes = faces.find_faces(rgb, cascade)
        if boxes:
            found += len(boxes)
            share = sum(w * h for _, _, w, h in boxes) / (rgb.shape[0] * rgb.shape[1])
            face_area += min(1.0, share) * area
            with_faces.append({"file": path.name, "faces": len(boxes), "area": area})
        if progress:
            progress(i + 1, len(files))
    total = sum(areas)
    return {
        "method": (f"OpenCV's Haar cascade {cascade.name} (Viola-Jones), run by liif/evaluation/faces.py: scale "
                   f"factor {faces.SCALE_FACTOR}, more than {faces.MIN_NEIGHBORS} neighbours, on a copy of each "
                   f"picture at most {detect_max_side} pixels a side"),
        "cascade": cascade.name, "cascade_sha256": cascade.sha256, "scale_factor": faces.SCALE_FACTOR,
        "min_neighbors": faces.MIN_NEIGHBORS, "detect_max_side": detect_max_side,
        "pictures_with_faces": len(with_faces), "faces": found,
        "area_share": round(sum(e["area"] for e in with_faces) / total, 4),
        "face_area_share": round(face_area / total, 4),
        "files": [{"file": e["file"], "faces": e["faces"]} for e in with_faces],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _detection_copy(path: Path, max_side: int) -> np.ndarray:
    """The picture as RGB, reduced (antialiased) to at most `max_side` a side; large JPEGs decode reduced."""
    with Image.open(path) as im:
        if max(im.size) > max_side:
            im.draft("RGB", (max(1, im.width * max_side // max(im.size)), max(1, im.height * max_side // max(im.size))))
        im = im.convert("RGB")
        if max(im.size) > max_side:
            w, h = training_size(im.width, im.height, max_side)
            im = im.resize((w, h), Image.Resampling.BICUBIC)
        return np.asarray(im)
