"""Pictures of printed text, made from a seed: training and held-out data for a text model (issue 24).

    paths = write_text_set("data/text-eval", count=200, seed=1)   # data/text-eval/HR/text-00000.png ...

Each picture holds blocks of words and lines of printed text in several fonts (the font files give the
weights and slants), sizes and colours, on a plain colour, a linear or radial gradient, smooth noise or a
faded crop of one of the shipped public-domain photos, with a slight blur and noise on top. Picture i
of a set depends only on (seed, i), so a set of 10 is the start of the set of 20, and the same seed gives
byte-identical PNG files (with the same Pillow and FreeType). Words come from the small list below or are
made of syllables: no corpus is read.

A set is written as `<DIR>/HR/text-00000.png, ...`, the layout `python -m liif eval` reads
(`<root>/<Set>/HR/*.png`; with no `LR_bicubic/` folder the LR inputs are made from HR), and `<DIR>/HR` is a
folder of photos for `python -m liif train --data`. `<DIR>/text-set.json` records how the set was made.

The default fonts are the shipped DejaVu files in `assets/fonts/`, so a set made here is the same on any
machine; `system_fonts()` adds this machine's `/usr/share/fonts/truetype/` for training variety.
"""

import hashlib
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

ASSETS = Path(__file__).resolve().parents[2] / "assets"
FONTS_DIR = ASSETS / "fonts"
ORIGINALS_DIR = ASSETS / "originals"
SYSTEM_FONTS_DIR = Path("/usr/share/fonts/truetype")
MIN_SIDE_FLOOR = 192  # the largest HR crop training cuts: a 48-pixel LR crop at x4
BACKGROUND_KINDS = ("plain", "linear", "radial", "noise", "photo")
FILE_NAME = "text-{:05d}.png"
SET_FILE = re.compile(r"text-\d{5,}\.png")  # the names write_text_set writes (and may replace)
RECORD_NAME = "text-set.json"
GENERATOR_VERSION = 1  # raise it whenever the same seed starts giving other pictures

WORDS = tuple("""
the of and to in is it that for on with as was at by be this from or have an not are but they which one
you all were we when there can more if so no what about out up into time only new some could them these
other than then now first any like over such our also after back many most way even well where much down
should because each just those people how too little state good very make world still own see men work
long here between both life being under never day same another know while last might great old year off
come since against go came right used take three small large place water light house point page line text
print letter paper book word name river street garden window market station north south city road table
paint colour green blue black white red yellow orange silver stone glass metal winter summer autumn spring
morning evening night open close price total number order receipt invoice date phone email office
monday friday january april october menu coffee bread apple lemon sugar salt milk butter cheese tea rice
chapter section figure notice warning exit entrance push pull sale free daily weekly report summary
""".split())
CONSONANTS = tuple("b c d f g h j k l m n p r s t v w z br cl dr fl gr pl st tr sh ch th".split())
VOWELS = tuple("a e i o u a e o ai ea ou ie".split())
ENDINGS = ("", "", "", "n", "r", "s", "t", "l", "nd", "st", "ng", "x")
PUNCTUATION = ("",) * 24 + (",", ",", ".", ".", ";", ":", "!", "?")  # one word in four


@dataclass(frozen=True)
class TextPictureSpec:
    """What a set's pictures may be: sizes in pixels, glyph heights (the font size in pixels, the em: capitals
    are about 0.73 of it in DejaVu), the share of each background and how strong the blur and noise may be."""

    min_side: int = MIN_SIDE_FLOOR  # the short side lies in [min_side, max_short_side]
    max_short_side: int = 320
    max_side: int = 512  # the long side is at most this
    glyph_min: int = 12
    glyph_max: int = 48
    backgrounds: tuple = BACKGROUND_KINDS  # drawn uniformly; "photo" needs photo files
    blur_share: float = 0.5  # the share of pictures blurred, with a Gaussian radius up to blur_max
    blur_max: float = 0.7
    noise_share: float = 0.6  # the share with Gaussian noise of standard deviation up to noise_max levels
    noise_max: float = 4.0

    def __post_init__(self):
        if self.min_side < MIN_SIDE_FLOOR:
            raise ValueError(f"min_side must be at least {MIN_SIDE_FLOOR} (training cuts HR crops that large), "
                             f"got {self.min_side}")
        if not self.min_side <= self.max_short_side <= self.max_side:
            raise ValueError(f"need min_side <= max_short_side <= max_side, got {self.min_side}, "
                             f"{self.max_short_side}, {self.max_side}")
        if not 6 <= self.glyph_min <= self.glyph_max <= self.min_side // 3:
            raise ValueError(f"glyph heights must satisfy 6 <= min <= max <= {self.min_side // 3}, "
                             f"got {self.glyph_min}-{self.glyph_max}")
        unknown = [kind for kind in self.backgrounds if kind not in BACKGROUND_KINDS]
        if not self.backgrounds or unknown:
            raise ValueError(f"backgrounds must be some of {', '.join(BACKGROUND_KINDS)}, got {self.backgrounds}")
        if self.blur_max < 0 or self.noise_max < 0 or not (0 <= self.blur_share <= 1 and 0 <= self.noise_share <= 1):
            raise ValueError("blur and noise amounts must be >= 0 and their shares within 0-1")


@dataclass
class TextLine:
    """One drawn line: its words, font file name, glyph height (font size in pixels), colour and ink box."""

    text: str
    font: str
    size: int
    colour: tuple
    box: tuple  # (left, top, right, bottom): its ink's rows, its advance's columns; before blur and noise


@dataclass
class TextPicture:
    image: Image.Image
    background: str
    lines: list = field(default_factory=list)


def shipped_fonts() -> list[Path]:
    """The DejaVu fonts shipped in assets/fonts/: the default, the same on every machine."""
    return sorted(FONTS_DIR.glob("*.ttf"))


def system_fonts(root=SYSTEM_FONTS_DIR) -> list[Path]:
    """Every .ttf under root (this machine's fonts, sorted by path): more variety, not reproducible elsewhere."""
    root = Path(root)
    return sorted(root.rglob("*.ttf")) if root.is_dir() else []


def shipped_photos() -> list[Path]:
    """The public-domain photos in assets/originals/, the only photos used as backgrounds by default."""
    return sorted(ORIGINALS_DIR.glob("*.jpg"))


def picture_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of picture `index` of the set made from `seed`: it depends on nothing else."""
    return np.random.default_rng([int(seed), int(index)])


@lru_cache(maxsize=512)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@lru_cache(maxsize=16)
def _photo(path: str) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def _luma(rgb) -> float:
    r, g, b = (float(c) / 255 for c in rgb[:3])
    return 0.299 * r + 0.587 * g + 0.114 * b


def _random_colour(rng) -> np.ndarray:
    return rng.integers(0, 256, size=3).astype(np.float64)


# ---- backgrounds: (H, W, 3) float arrays in 0-255 ----

def _gradient(rng, kind, h, w):
    """From one random colour to another along a line at a random angle ("linear") or out from a random
    centre ("radial")."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    if kind == "linear":
        angle = rng.uniform(0, 2 * math.pi)
        t = (x - w / 2) * math.cos(angle) + (y - h / 2) * math.sin(angle)
        t = (t - t.min()) / max(t.max() - t.min(), 1e-9)
    else:
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        t = np.clip(np.hypot(y - cy, x - cx) / (rng.uniform(0.5, 1.2) * math.hypot(h, w)), 0, 1)
    a, b = _random_colour(rng), _random_colour(rng)
    return a + (b - a) * t[..., None]


def _smooth_noise(rng, h, w):
    cells = int(rng.integers(2, 7))
    grid = rng.uniform(0, 255, size=(cells, cells, 3)).astype(np.uint8)
    smooth = Image.fromarray(grid).resize((w, h), Image.BICUBIC)
    base = _random_colour(rng)
    mix = rng.uniform(0.3, 0.7)
    return base * (1 - mix) + np.asarray(smooth, dtype=np.float64) * mix


def _photo_background(rng, h, w, photos):
    photo = _photo(str(photos[int(rng.integers(len(photos)))]))
    # The largest crop of the picture's proportions that fits, then a random share of it (at least half).
    fit = min(photo.width / w, photo.height / h)
    ratio = fit * rng.uniform(0.5, 1.0)
    cw, ch = max(1, round(w * ratio)), max(1, round(h * ratio))
    x0, y0 = int(rng.integers(0, photo.width - cw + 1)), int(rng.integers(0, photo.height - ch + 1))
    crop = photo.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h), Image.BICUBIC)
    crop = crop.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 5.0)))
    # Faded towards white or black so that text of the other brightness stays readable on it.
    target = 255.0 if rng.random() < 0.6 else 0.0
    fade = rng.uniform(0.45, 0.75)
    return np.asarray(crop, dtype=np.float64) * (1 - fade) + target * fade


def _background(rng, kind, h, w, photos):
    if kind == "photo":
        return _photo_background(rng, h, w, photos)
    if kind == "plain":
        return np.broadcast_to(_random_colour(rng), (h, w, 3)).copy()
    return _smooth_noise(rng, h, w) if kind == "noise" else _gradient(rng, kind, h, w)


# ---- words ----

def _made_up_word(rng) -> str:
    syllables = int(rng.integers(1, 4))
    parts = [str(rng.choice(CONSONANTS)) + str(rng.choice(VOWELS)) for _ in range(syllables)]
    return "".join(parts) + str(rng.choice(ENDINGS))


def _number(rng) -> str:
    form = int(rng.integers(4))
    if form == 0:
        return str(int(rng.integers(0, 10000)))
    if form == 1:
        return f"{rng.integers(1, 1000)}.{rng.integers(0, 100):02d}"
    if form == 2:
        return f"{rng.integers(1, 29):02d}/{rng.integers(1, 13):02d}/{rng.integers(1950, 2031)}"
    return f"{rng.integers(0, 100)}%"


def _word(rng, case: str) -> str:
    draw = rng.random()
    if draw < 0.1:
        return _number(rng)
    word = _made_up_word(rng) if draw < 0.35 else str(rng.choice(WORDS))
    if case == "upper":
        word = word.upper()
    elif case == "title" or (case == "sentence" and rng.random() < 0.1):
        word = word.capitalize()
    return word + str(rng.choice(PUNCTUATION))


def _line_text(rng, font, case, width) -> str:
    """Words until the next one would not fit in `width` pixels (at least one word, which may be cut)."""
    words = []
    while True:
        word = _word(rng, case)
        if case == "sentence" and not words:
            word = word.capitalize()
        candidate = " ".join([*words, word])
        if font.getlength(candidate) > width:
            break
        words.append(word)
        if rng.random() < 0.04:  # a short line now and then
            break
    if not words:  # even one word is too wide: its longest start that fits
        while len(word) > 1 and font.getlength(word) > width:
            word = word[:-1]
        words = [word]
    return " ".join(words)


def _text_colour(rng, under: float) -> tuple:
    """A colour whose brightness differs clearly from `under` (the background's mean luma, 0-1)."""
    for _ in range(20):
        grey = rng.uniform(0, 0.3) if under > 0.5 else rng.uniform(0.7, 1.0)
        hue = _random_colour(rng) / 255
        saturation = rng.uniform(0, 0.8) if rng.random() < 0.5 else 0.0
        rgb = np.clip((grey * (1 - saturation) + hue * saturation) * 255, 0, 255).round().astype(int)
        if abs(_luma(rgb) - under) >= 0.4:
            return tuple(int(c) for c in rgb)
    return (0, 0, 0) if under > 0.5 else (255, 255, 255)


def _draw_text(rng, image, background, spec, fonts) -> list:
    draw = ImageDraw.Draw(image)
    w, h = image.size
    margin = int(rng.integers(4, 17))
    y = float(margin)
    lines = []
    log_min, log_max = math.log(spec.glyph_min), math.log(spec.glyph_max + 1)
    while True:
        size = min(spec.glyph_max, int(math.exp(rng.uniform(log_min, log_max))))
        font_path = fonts[int(rng.integers(len(fonts)))]
        font = _font(str(font_path), size)
        step = size * rng.uniform(1.2, 1.7)
        n_lines = int(rng.integers(1, 6))
        if y + size * 1.3 > h - margin:
            break
        indent = margin + int(rng.integers(0, max(1, w // 3)))
        room = w - margin - indent
        align = str(rng.choice(["left", "left", "left", "centre", "right"]))
        case = str(rng.choice(["sentence", "sentence", "lower", "title", "upper"]))
        top, bottom = int(y), min(h, int(y + n_lines * step + size))
        colour = _text_colour(rng, _luma(background[top:bottom, indent:w - margin].mean(axis=(0, 1))))
        for _ in range(n_lines):
            if y + size * 1.3 > h - margin:
                break
            text = _line_text(rng, font, case, room * rng.uniform(0.5, 1.0))
            length = font.getlength(text)
            x = round({"left": indent, "centre": indent + (room - length) / 2, "right": w - margin - length}[align])
            draw.text((x, round(y)), text, font=font, fill=colour)
            box = draw.textbbox((x, round(y)), text, font=font)
            lines.append(TextLine(text, Path(font_path).name, size, colour, tuple(int(v) for v in box)))
            y += step
        y += size * rng.uniform(0.3, 2.0)
    return lines


def compose_text_picture(rng, spec: TextPictureSpec | None = None, fonts=None, photos=None) -> TextPicture:
    """One picture and what was drawn on it. `rng` is a numpy Generator (see `picture_rng`) or a seed;
    `fonts` a list of .ttf paths (default `shipped_fonts()`), `photos` the background photos (default
    `shipped_photos()`; an empty list leaves out photo backgrounds)."""
    spec = spec or TextPictureSpec()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    fonts = sorted(Path(f) for f in (shipped_fonts() if fonts is None else fonts))
    photos = sorted(Path(p) for p in (shipped_photos() if photos is None else photos))
    if not fonts:
        raise ValueError("no fonts given")
    kinds = [kind for kind in spec.backgrounds if kind != "photo" or photos]
    if not kinds:
        raise ValueError("photo backgrounds only, but no photos given")
    short = int(rng.integers(spec.min_side, spec.max_short_side + 1))
    long = min(spec.max_side, round(short * rng.uniform(1.0, 1.6)))
    w, h = (long, short) if rng.random() < 0.6 else (short, long)
    kind = str(kinds[int(rng.integers(len(kinds)))])
    background = _background(rng, kind, h, w, photos)
    image = Image.fromarray(np.clip(background, 0, 255).round().astype(np.uint8))
    lines = _draw_text(rng, image, background, spec, fonts)
    # Slight blur and noise: the draws are made whether or not they are used, so the stream stays aligned.
    blur, blur_on = rng.uniform(0.2, max(spec.blur_max, 0.2)), rng.random() < spec.blur_share
    sigma, noise_on = rng.uniform(0, spec.noise_max), rng.random() < spec.noise_share
    if blur_on and spec.blur_max > 0:
        image = image.filter(ImageFilter.GaussianBlur(min(blur, spec.blur_max)))
    if noise_on and sigma > 0:
        pixels = np.asarray(image, dtype=np.float64) + rng.normal(0, sigma, size=(h, w, 3))
        image = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))
    return TextPicture(image, kind, lines)


def write_text_set(out_dir, count: int, seed: int = 0, spec: TextPictureSpec | None = None, fonts=None,
                   photos=None, progress=None) -> list[Path]:
    """Write pictures 0..count-1 of the set made from `seed` as `out_dir/HR/text-00000.png, ...` and
    `out_dir/text-set.json` (the parameters, fonts and photos by file name, and each file's SHA-256).
    Files of this naming left from a larger earlier set in HR/ are removed; other pictures there are refused,
    as they would be read with the set. `progress(i, count)` is called after each picture."""
    if count < 1 or seed < 0:
        raise ValueError(f"count must be at least 1 and seed at least 0, got {count} and {seed}")
    spec = spec or TextPictureSpec()
    fonts = sorted(Path(f) for f in (shipped_fonts() if fonts is None else fonts))
    photos = sorted(Path(p) for p in (shipped_photos() if photos is None else photos))
    missing = [str(p) for p in [*fonts, *photos] if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(missing)}")
    out_dir = Path(out_dir)
    hr = out_dir / "HR"
    names = [FILE_NAME.format(i) for i in range(count)]
    if hr.is_dir():
        others = sorted(p.name for p in hr.iterdir() if p.is_file() and not SET_FILE.fullmatch(p.name))
        if others:
            raise ValueError(f"{hr} holds other files ({', '.join(others[:3])}...): choose an empty folder")
        for stale in sorted(p for p in hr.iterdir() if SET_FILE.fullmatch(p.name) and p.name not in set(names)):
            stale.unlink()
    hr.mkdir(parents=True, exist_ok=True)
    paths, files = [], []
    for i, name in enumerate(names):
        picture = compose_text_picture(picture_rng(seed, i), spec, fonts, photos)
        buffer = io.BytesIO()
        picture.image.save(buffer, format="PNG", compress_level=6)
        data = buffer.getvalue()
        path = hr / name
        path.write_bytes(data)
        paths.append(path)
        files.append({"file": f"HR/{name}", "width": picture.image.width, "height": picture.image.height,
                      "background": picture.background, "lines": len(picture.lines),
                      "glyph_heights": sorted({line.size for line in picture.lines}),
                      "sha256": hashlib.sha256(data).hexdigest()})
        if progress:
            progress(i + 1, count)
    record = {
        "generator": "liif.training.text_pictures", "version": GENERATOR_VERSION, "seed": int(seed),
        "count": count, "layout": "HR/text-NNNNN.png (python -m liif eval reads <root>/<Set>/HR/*.png)",
        "spec": asdict(spec), "fonts": [_name(p) for p in fonts], "photos": [_name(p) for p in photos],
        "pillow": Image.__version__, "freetype": features.version("freetype2"), "files": files,
    }
    (out_dir / RECORD_NAME).write_text(json.dumps(record, indent=2) + "\n")
    return paths


def _name(path: Path) -> str:
    """A shipped file by its path in the repository (assets/fonts/DejaVuSans.ttf), any other in full."""
    path = Path(path).resolve()
    return str(path.relative_to(ASSETS.parent)) if path.is_relative_to(ASSETS) else str(path)
