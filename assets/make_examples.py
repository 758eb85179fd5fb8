"""Make the demo's example inputs: tiny "profile photos" cut from public-domain and CC0 pictures.

    python assets/make_examples.py [--source ../shared/assets-src]

Each example is a square crop around a face, reduced with Pillow's antialiased bicubic filter, as a
site shrinks an uploaded photo to an avatar. The crops are fixed numbers, so the files are reproducible;
assets/README.md gives each source and its terms.
"""

import argparse
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "assets-src"

# name -> (source file, square crop box (left, top, right, bottom) in source pixels, output side)
EXAMPLES = {
    "astronaut-64.png": ("astronaut.png", (122, 0, 328, 206), 64),
    "astronaut-48.png": ("astronaut.png", (122, 0, 328, 206), 48),
    "grace-hopper-64.png": ("grace_hopper.jpg", (107, 30, 417, 340), 64),
    "grace-hopper-48.png": ("grace_hopper.jpg", (107, 30, 417, 340), 48),
    "cat-48.png": ("chelsea.png", (70, 0, 370, 300), 48),
    "coffee-64.png": ("coffee.png", (150, 0, 460, 310), 64),
}


def make_example(source: Path, box: tuple, side: int) -> Image.Image:
    with Image.open(source) as im:
        face = im.convert("RGB").crop(box)
    return face.resize((side, side), Image.Resampling.BICUBIC)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder with the source pictures")
    parser.add_argument("--out", type=Path, default=HERE / "examples", help="where the examples are written")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (source, box, side) in EXAMPLES.items():
        make_example(args.source / source, box, side).save(args.out / name, optimize=True)
        print(f"{args.out / name}: {side}x{side} from {source} {box}")


if __name__ == "__main__":
    main()
