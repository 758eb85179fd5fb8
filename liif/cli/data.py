"""`python -m liif make-data text`: pictures of printed text for training and evaluation
(liif/training/text_pictures.py)."""

import argparse
import sys
import time

from liif.cli.common import fail


def _range(text):
    low, sep, high = text.partition("-")
    try:
        low, high = int(low), int(high if sep else low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO-HI in pixels like 12-48, got {text!r}") from None
    return low, high


def add_make_data(sub):
    p = sub.add_parser("make-data", help="generate picture sets for training and evaluation")
    kinds = p.add_subparsers(dest="kind", required=True)
    t = kinds.add_parser("text", help="pictures of printed text, the same for the same seed on any machine",
                         description="Writes DIR/HR/text-00000.png ... and DIR/text-set.json. Evaluate with "
                                     "`eval --data PARENT --sets NAME`, train with `train --data DIR/HR`.")
    t.add_argument("--out", required=True, metavar="DIR", help="the set's folder (pictures go in DIR/HR/)")
    t.add_argument("--count", type=int, default=200, help="how many pictures (default: %(default)s)")
    t.add_argument("--seed", type=int, default=0, help="picture i depends only on (seed, i) (default: %(default)s)")
    t.add_argument("--min-side", type=int, default=192,
                   help="the shortest short side (default and least: %(default)s, training's largest crop)")
    t.add_argument("--max-short-side", type=int, default=320, help="the longest short side (default: %(default)s)")
    t.add_argument("--max-side", type=int, default=512, help="the longest side (default: %(default)s)")
    t.add_argument("--glyph-heights", type=_range, default=(12, 48), metavar="LO-HI",
                   help="font sizes in pixels (default: 12-48)")
    t.add_argument("--fonts", nargs="+", metavar="TTF", help="font files (default: the shipped assets/fonts/*.ttf)")
    t.add_argument("--system-fonts", action="store_true",
                   help="also every .ttf under /usr/share/fonts/truetype/ (more variety for training; "
                        "another machine makes other pictures, so not for a held-out set)")
    t.add_argument("--no-photos", action="store_true", help="only generated backgrounds, no photo crops")
    t.set_defaults(func=_run_text)


def _run_text(args):
    from pathlib import Path

    from liif.training import text_pictures as tp

    try:
        spec = tp.TextPictureSpec(min_side=args.min_side, max_short_side=args.max_short_side, max_side=args.max_side,
                                  glyph_min=args.glyph_heights[0], glyph_max=args.glyph_heights[1])
    except ValueError as exc:
        return fail(str(exc), 2)
    fonts = [Path(f) for f in args.fonts] if args.fonts else tp.shipped_fonts()
    if args.system_fonts:
        fonts = sorted(set(fonts) | set(tp.system_fonts()))
    photos = [] if args.no_photos else tp.shipped_photos()
    started = time.perf_counter()

    def progress(done, count):
        if done == count or done % 50 == 0:
            print(f"{done}/{count} pictures", file=sys.stderr)

    try:
        paths = tp.write_text_set(args.out, args.count, args.seed, spec, fonts, photos, progress=progress)
    except (ValueError, OSError) as exc:
        return fail(str(exc), 2)
    out = Path(args.out)
    print(f"wrote {len(paths)} pictures to {out / 'HR'} and {out / tp.RECORD_NAME} "
          f"in {time.perf_counter() - started:.1f} s")
    print(f"evaluate: python -m liif eval --data {out.resolve().parent} --sets {out.resolve().name} --bicubic-only")
    print(f"train:    python -m liif train --data {out / 'HR'} ...")
    return 0
