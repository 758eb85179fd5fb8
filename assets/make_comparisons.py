"""Side-by-side crops for the README: input | bicubic | LIIF | original, from public-domain/CC0 pictures.

    .venv/bin/python assets/make_comparisons.py --source ../shared/assets-src [--model weights/x.safetensors]

Each picture is reduced 4x (antialiased bicubic), both methods bring it back to full size, and the same
crop of the three and of the original are laid side by side, with PSNR-Y against the original.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from liif.core.weights import load_model  # noqa: E402
from liif.evaluation.metrics import psnr_y  # noqa: E402
from liif.render.engine import Upscaler  # noqa: E402
from liif.render.imageio import to_tensor, to_uint8  # noqa: E402

# (file, crop box (left, top, right, bottom) in the original's pixels)
PICTURES = [
    ("astronaut.png", (168, 40, 296, 168)),
    ("chelsea.png", (140, 60, 268, 188)),
    ("coffee.png", (200, 60, 328, 188)),
]
SCALE = 4
TILE = 256  # each panel's display size


def compare(engine, source: Path, box, out_dir: Path) -> str:
    original = Image.open(source).convert("RGB")
    w, h = original.width // SCALE * SCALE, original.height // SCALE * SCALE
    original = original.crop((0, 0, w, h))
    small = original.resize((w // SCALE, h // SCALE), Image.BICUBIC)
    bicubic = small.resize((w, h), Image.BICUBIC)
    liif = Image.fromarray(to_uint8(engine.render(to_tensor(np.asarray(small)), h, w)))
    panels = {
        "input": small.crop(tuple(v // SCALE for v in box)).resize((TILE, TILE), Image.NEAREST),
        "bicubic": bicubic.crop(box).resize((TILE, TILE), Image.NEAREST),
        "LIIF (ours)": liif.crop(box).resize((TILE, TILE), Image.NEAREST),
        "original": original.crop(box).resize((TILE, TILE), Image.NEAREST),
    }
    scores = {name: psnr_y(np.asarray(img), np.asarray(original), shave=SCALE) for name, img in
              (("bicubic", bicubic), ("LIIF (ours)", liif))}
    sheet = Image.new("RGB", (TILE * 4 + 30, TILE + 24), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, panel) in enumerate(panels.items()):
        x = i * (TILE + 10)
        sheet.paste(panel, (x, 24))
        label = name + (f"  {scores[name]:.2f} dB" if name in scores else f"  x{SCALE} smaller" if name == "input" else "")
        draw.text((x + 4, 6), label, fill="black")
    out = out_dir / f"compare-{source.stem}.png"
    sheet.save(out)
    return f"{out.name}: bicubic {scores['bicubic']:.2f} dB, LIIF {scores['LIIF (ours)']:.2f} dB (PSNR-Y, whole picture)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="../shared/assets-src")
    parser.add_argument("--model")
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parent / "comparisons"))
    args = parser.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    engine = Upscaler(load_model(args.model), precision="fp32")
    for name, box in PICTURES:
        print(compare(engine, Path(args.source) / name, box, out_dir))


if __name__ == "__main__":
    main()
