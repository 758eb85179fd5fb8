"""Make the demo's example inputs, tiny "profile photos" cut from public-domain and CC0 pictures, and
the originals that the "check against the real photo" section compares with.

    python assets/make_examples.py [--source ../shared/assets-src]

Each example is a square crop around a face (or the lattice towers of a launch site), reduced with Pillow's antialiased bicubic filter, as a
site shrinks an uploaded photo to an avatar. Each original is a crop of at most 512 pixels a side around
the same face, at the source's own resolution (never enlarged), saved as a high-quality JPEG (4:4:4, so
colour edges are not halved) to keep the repository small. The crops are fixed numbers, so the files are
reproducible; assets/README.md gives each source and its terms.

The printed sign (originals/sign.png) is no photo: our text generator (liif/training/text_pictures.py)
draws it from a fixed seed with the shipped DejaVu fonts, and seen/sign-x4.png is its tiny version, shrunk
x4 as the check shrinks a photo (liif/lessons/check.py, antialiased bicubic): the "what it has seen" section's
text input. Neither is read from --source.
"""

import argparse
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "assets-src"
sys.path.insert(0, str(HERE.parent))  # liif, for the generated sign

# name -> (source file, square crop box (left, top, right, bottom) in source pixels, output side)
EXAMPLES = {
    "astronaut-64.png": ("astronaut.png", (122, 0, 328, 206), 64),
    "astronaut-48.png": ("astronaut.png", (122, 0, 328, 206), 48),
    "grace-hopper-64.png": ("grace_hopper.jpg", (107, 30, 417, 340), 64),
    "grace-hopper-48.png": ("grace_hopper.jpg", (107, 30, 417, 340), 48),
    "cat-48.png": ("chelsea.png", (70, 0, 370, 300), 48),
    "coffee-64.png": ("coffee.png", (150, 0, 460, 310), 64),
    # A regular structure, where a model's invention shows: the lattice of the launch site's towers.
    "rocket-52.png": ("rocket.jpg", (0, 11, 416, 427), 52),
}
# name -> (source file, crop box (left, top, right, bottom) in source pixels); liif/lessons/check.py lists them
ORIGINALS = {
    "astronaut.jpg": ("astronaut.png", (0, 0, 512, 512)),
    "grace-hopper.jpg": ("grace_hopper.jpg", (0, 0, 512, 512)),
    "cat.jpg": ("chelsea.png", (0, 0, 448, 296)),
    "coffee.jpg": ("coffee.png", (44, 0, 556, 400)),
    "rocket.jpg": ("rocket.jpg", (0, 11, 416, 427)),
}
ORIGINAL_QUALITY = 92
# The generated sign: picture SIGN_PICTURE of the text set made from SIGN_SEED with this spec, 256x192.
SIGN_SEED, SIGN_PICTURE = 2026, 4
SIGN_SPEC = {"min_side": 192, "max_short_side": 192, "max_side": 256, "glyph_min": 20, "glyph_max": 36,
             "backgrounds": ("plain", "linear")}
SIGN_TINY_SCALE = 4


def make_sign() -> tuple:
    """(the printed sign, its tiny version at x4) as PIL images, from the seed alone."""
    from liif.lessons.check import real_and_tiny
    from liif.render.imageio import load_image
    from liif.training import text_pictures as tp

    spec = tp.TextPictureSpec(**SIGN_SPEC)
    sign = tp.make_text_picture(tp.picture_rng(SIGN_SEED, SIGN_PICTURE), spec, fonts=tp.shipped_fonts(), photos=[])
    real, tiny = real_and_tiny(load_image(sign), SIGN_TINY_SCALE)
    assert real.shape[:2] == (sign.height, sign.width), "the sign must be a multiple of the scale, uncut"
    return sign, Image.fromarray(tiny)


def make_example(source: Path, box: tuple, side: int) -> Image.Image:
    with Image.open(source) as im:
        face = im.convert("RGB").crop(box)
    return face.resize((side, side), Image.Resampling.BICUBIC)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder with the source pictures")
    parser.add_argument("--out", type=Path, default=HERE / "examples", help="where the examples are written")
    parser.add_argument("--originals", type=Path, default=HERE / "originals", help="where the originals are written")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (source, box, side) in EXAMPLES.items():
        make_example(args.source / source, box, side).save(args.out / name, optimize=True)
        print(f"{args.out / name}: {side}x{side} from {source} {box}")
    args.originals.mkdir(parents=True, exist_ok=True)
    for name, (source, box) in ORIGINALS.items():
        with Image.open(args.source / source) as im:
            im.convert("RGB").crop(box).save(args.originals / name, quality=ORIGINAL_QUALITY, subsampling=0,
                                              optimize=True)
        print(f"{args.originals / name}: {box[2] - box[0]}x{box[3] - box[1]} from {source} {box}")
    sign, tiny = make_sign()
    sign.save(args.originals / "sign.png", optimize=True)
    (HERE / "seen").mkdir(exist_ok=True)
    tiny.save(HERE / "seen" / f"sign-x{SIGN_TINY_SCALE}.png", optimize=True)
    print(f"{args.originals / 'sign.png'}: {sign.width}x{sign.height}, text picture {SIGN_PICTURE} of seed {SIGN_SEED}; "
          f"{HERE / 'seen' / f'sign-x{SIGN_TINY_SCALE}.png'}: {tiny.width}x{tiny.height}")


if __name__ == "__main__":
    main()
