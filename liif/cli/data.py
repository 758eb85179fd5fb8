"""`python -m liif make-data text`: pictures of printed text for training and evaluation
(liif/training/text_pictures.py)."""

import argparse
import json
import sys
import time
from pathlib import Path

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
    f = kinds.add_parser("faces", help="face crops from evaluation pictures, for measuring what upscalers draw on faces",
                         description="Writes DIR/HR/face-NN.png (every frontal face OpenCV's Haar cascade finds, "
                                     "framed 1.8 times its size) and DIR/face-set.json. Evaluate with "
                                     "`eval --data PARENT --sets NAME`. Use evaluation pictures, never training ones.")
    f.add_argument("--out", required=True, metavar="DIR", help="the set's folder (pictures go in DIR/HR/)")
    f.add_argument("sources", nargs="+", metavar="PICTURE_OR_FOLDER", help="pictures, or folders of them")
    f.set_defaults(func=_run_faces)


def _run_text(args):
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


def add_data_facts(sub):
    from liif.training.config import TrainConfig

    p = sub.add_parser("data-facts", help="count what a folder of training pictures holds (sources, area, faces)",
                       description="Measured facts about a folder of training pictures: how many, their megapixels "
                                   "(as stored and as training reads them), each source's share of the area, and "
                                   "how many show a face (OpenCV's Haar frontal-face cascade). A text set made by "
                                   "make-data text is read from its text-set.json. The page and the model card read "
                                   "the JSON written beside a model's weights (weights/NAME.data.json).")
    p.add_argument("folder", metavar="FOLDER", help="the training folder (for a text set, DIR or DIR/HR)")
    p.add_argument("--json", metavar="OUT", help="write the facts as JSON here (default: print them)")
    p.add_argument("--max-side", type=int, default=TrainConfig().max_side,
                   help="training's max_side: larger pictures count at this size (default: %(default)s)")
    p.add_argument("--detect-max-side", type=int, default=None,
                   help="faces are looked for in a copy at most this many pixels a side (default: 512)")
    p.add_argument("--no-faces", action="store_true", help="skip the face count (quick)")
    p.set_defaults(func=_run_data_facts)


def _run_data_facts(args):
    from liif.evaluation import data_facts, faces
    from liif.training.data import list_images

    record, pictures = data_facts.text_record(args.folder)
    try:
        files = list_images([pictures])
    except FileNotFoundError as exc:
        return fail(str(exc), 2)

    def progress(done, count):
        if done == count or done % 100 == 0:
            print(f"faces: {done}/{count} pictures", file=sys.stderr, flush=True)

    facts = data_facts.folder_facts(args.folder, files, max_side=args.max_side, detect_faces=not args.no_faces,
                                    detect_max_side=args.detect_max_side or faces.DETECT_MAX_SIDE,
                                    progress=progress)
    command = ["python -m liif data-facts", args.folder] + (["--json", args.json] if args.json else [])
    facts = {"command": " ".join(command), **facts}
    if args.json:
        data_facts.write_facts(facts, args.json)
        found = facts.get("faces")
        print(f"{facts['pictures']} pictures, {facts['training_megapixels']:.1f} MP as training reads them"
              + (f", a face in {found['pictures_with_faces']}" if found else "")
              + f"; wrote {args.json} in {facts['seconds']:.0f} s")
    else:
        print(json.dumps(facts, indent=2, ensure_ascii=False))
    return 0


def _run_faces(args):
    from liif.evaluation.face_set import make_face_set

    try:
        record = make_face_set(args.sources, args.out, name=Path(args.out).name)
    except FileNotFoundError as exc:
        return fail(str(exc), 2)
    print(f"{len(record['faces'])} faces from {len(record['sources'])} pictures in {Path(args.out) / 'HR'}")
    return 0
