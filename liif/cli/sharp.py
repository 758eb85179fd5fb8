"""`python -m liif sharp PHOTO --scale 8 [--blend W] [--real] [-o sheet.png] [--json]`: the average and the
sharp guess (liif/lessons/sharp.py) from the command line, with the same models the page uses."""

from liif import settings
from liif.cli.common import checked, fail
from liif.cli.upscale import scale_factor

SHEET_LABEL = 14  # caption size on the sheet, in pixels


def add_sharp(sub):
    from liif.render import imageio

    p = sub.add_parser("sharp", help="the same photo through the L1 model and the model trained to look real, and a blend",
                       description="Upscale a photo with the model trained to be right on average and with the same "
                                   "network trained to look real (adversarially), and with a blend of their weights; "
                                   "measure each picture's invented detail and, with --real, its distance to the "
                                   "real photo.")
    p.add_argument("photo", metavar="PHOTO", help=f"an image file ({imageio.SUPPORTED_NAMES})")
    p.add_argument("--scale", type=checked(scale_factor), default=8.0, metavar="S", help="scale factor (default 8)")
    p.add_argument("--blend", type=float, default=0.5, metavar="W",
                   help="the blend's weight: 0 is the average, 1 the sharp guess (default 0.5)")
    p.add_argument("--real", action="store_true",
                   help="PHOTO is the real photo: shrink it by the scale first, then measure every picture against it")
    p.add_argument("--sharp-model", default="edsr-baseline-gan", metavar="NAME|PATH",
                   help="the model trained to look real; its average-minded twin is the model it was trained from")
    p.add_argument("--ladder", action="store_true", help="also measure the blend at 0, 0.25, 0.5, 0.75 and 1")
    p.add_argument("-o", "--output", metavar="OUT.png", help="write tiny | average | blend | sharp (| real) as one PNG")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.add_argument("--precision", choices=["auto", *settings.PRECISIONS], default="auto")
    p.set_defaults(func=_run_sharp)


def _run_sharp(args):
    import json

    import numpy as np
    from PIL import Image

    from liif.core.blend import twin_path
    from liif.core.weights import WEIGHTS_DIR, WeightsError, load_weights, resolve_weights
    from liif.lessons import sharp
    from liif.render import imageio, pictures
    from liif.render.engine import Upscaler

    if not 0 <= args.blend <= 1:
        return fail(f"--blend is from 0 (the average) to 1 (the sharp guess), not {args.blend:g}", 2)
    try:
        sharp_weights = load_weights(resolve_weights(args.sharp_model))
        twin = twin_path(sharp_weights.path, sharp_weights.training, WEIGHTS_DIR)
        if twin is None:
            return fail(f"{sharp_weights.path.name} names no model it was trained from that is here: nothing to "
                        "compare it with", 2)
        average = Upscaler(load_weights(twin), precision=args.precision)
        guesser = Upscaler(sharp_weights, precision=args.precision)
        loaded = imageio.load_image(args.photo)
        real = None
        if args.real:
            real = loaded.rgb
            h, w = real.shape[:2]
            small = (max(1, round(w / args.scale)), max(1, round(h / args.scale)))
            real = real[: round(small[1] * args.scale), : round(small[0] * args.scale)]
            loaded = imageio.load_image(pictures.shrink(real, *small))
        guess = sharp.sharp_guess(average, guesser, loaded, args.scale, args.blend, real=real)
        ladder = sharp.blend_ladder(average, guesser, loaded, args.scale, real=real) if args.ladder else None
    except (WeightsError, imageio.ImageInputError) as exc:
        return fail(str(exc), 2)
    if args.output:
        tiles = [pictures.enlarge_nearest(loaded.rgb, max(guess.out_size)), guess.average.picture,
                 guess.blended.picture, guess.sharp.picture] + ([guess.real.picture] if guess.real else [])
        names = ["tiny", "average (L1)", f"blend {args.blend:g}", "sharp guess"] + (["real"] if guess.real else [])
        tiles = [pictures.label(np.ascontiguousarray(t[: guess.out_size[1], : guess.out_size[0]]), n, size=SHEET_LABEL)
                 for t, n in zip(tiles, names)]
        Image.fromarray(pictures.side_by_side(*tiles, gap=4)).save(args.output)
    if args.json:
        rows = [guess.bicubic, guess.average, guess.blended, guess.sharp] + ([guess.real] if guess.real else [])
        print(json.dumps({
            "input": list(guess.in_size), "output": list(guess.out_size), "blend": guess.blend,
            "pictures": [{"label": r.label, "detail_levels": round(r.detail, 3),
                          "psnr_y_db": None if r.psnr_db is None else round(r.psnr_db, 3)} for r in rows],
            "ladder": None if ladder is None else [{"blend": w, "detail_levels": round(d, 3),
                                                    "psnr_y_db": None if p is None else round(p, 3)}
                                                   for w, d, p in ladder],
            "seconds": round(guess.seconds, 2),
        }, indent=2))
    else:
        print(guess.headline())
        print(guess.numbers_markdown())
        for weight, detail, psnr in ladder or []:
            print(f"blend {weight:g}: detail {detail:.2f} levels" + ("" if psnr is None else f", PSNR-Y {psnr:.2f} dB"))
    return 0
