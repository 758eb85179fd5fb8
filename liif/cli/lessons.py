"""`python -m liif check`: the check against the real photo from the command line (liif/lessons/check.py)."""

from liif.cli.common import add_model_options, fail, make_upscaler, sharp_guess


def add_check(sub):
    from liif.lessons import check, originals

    p = sub.add_parser("check", help="shrink a photo, bring it back with bicubic and LIIF, measure both against it",
                       description="Check against the real photo: shrink PHOTO by the scale (antialiased bicubic, "
                                   "as the training inputs were made), upscale the tiny version with bicubic and "
                                   "with LIIF, and print PSNR-Y, SSIM-Y and where LIIF got closer. With "
                                   "--jpeg-quality the tiny version is saved as a JPEG first, and the model trained "
                                   "on compressed inputs brings the same JPEG back too.")
    p.add_argument("photo", metavar="PHOTO",
                   help=f"a photo at least scale x {check.MIN_TINY_SIDE} pixels a side, or a shipped one: "
                        f"{', '.join(originals.ORIGINALS)}")
    p.add_argument("--scale", type=int, default=check.DEFAULT_SCALE, choices=check.SCALES)
    p.add_argument("--working-size", type=int, default=check.DEFAULT_WORKING_SIZE, metavar="N",
                   help="the tiny version's long side at most (a larger photo is reduced first)")
    p.add_argument("--share", metavar="OUT.png",
                   help="write tiny | bicubic | LIIF | real, with the numbers, as one PNG")
    p.add_argument("--json", action="store_true",
                   help="print the numbers as JSON (the plain check adds which_one_is_real: the page's guessing "
                        "game, its shuffled pictures' fit to the tiny input and distances to the real photo)")
    p.add_argument("--jpeg-quality", type=int, metavar="Q",
                   help="save the tiny version as a JPEG of quality Q (1-95) first, as a web thumbnail would be, "
                        "and compare the --model with the JPEG-trained model on it")
    p.add_argument("--jpeg-model", metavar="edsr-baseline-jpeg|PATH",
                   help="with --jpeg-quality: the model trained on compressed inputs (default: the shipped "
                        "edsr-baseline-jpeg, when it is here)")
    add_model_options(p)
    p.set_defaults(func=_run_check)


def _run_check(args):
    import json

    from liif.core.weights import WeightsError
    from liif.lessons import check, check_jpeg, guess, originals
    from liif.render import imageio

    source = originals.original_path(args.photo) if args.photo in originals.ORIGINALS else args.photo
    try:
        quality = check_jpeg.check_quality(args.jpeg_quality)
    except imageio.ImageInputError as exc:
        return fail(f"--jpeg-quality: {exc}", 2)
    if args.jpeg_model and quality is None:
        return fail("--jpeg-model compares models on a JPEG: give --jpeg-quality Q as well", 2)
    upscaler = make_upscaler(args)
    if upscaler is None:
        return 2
    try:
        if quality is None:
            result = check.check(upscaler, source, args.scale, args.working_size, model_name=args.model or "rdn")
        else:
            second, second_name = _jpeg_model(args, upscaler)
            result = check_jpeg.check_jpeg(upscaler, source, args.scale, quality, second=second,
                                           working_size=args.working_size, model_name=args.model or "rdn",
                                           second_name=second_name)
    except (imageio.ImageInputError, WeightsError) as exc:
        return fail(str(exc), 2)
    if args.share:
        imageio.save_png(result.share_image(), args.share)
    if args.json:
        summary = result.summary()
        if quality is None:  # the page's "Which one is real?": no model run, the check's pictures reused
            try:
                guessed = sharp_guess(result.tiny, result.scale)
                summary["which_one_is_real"] = guess.guess(result, sharp=guessed).summary()
            except imageio.ImageInputError as exc:
                summary["which_one_is_real"] = {"problem": str(exc)}
        print(json.dumps(summary, indent=2))
    else:
        print(result.markdown().replace("**", ""))
    return 0


def _jpeg_model(args, upscaler) -> tuple:
    """(the JPEG-trained model's upscaler or None, its name): --jpeg-model, else the shipped one if it is
    here; None when it is the --model itself (then only that one runs, and the words say so)."""
    from liif.core.weights import WeightsError, load_weights, resolve_weights
    from liif.render.engine import Upscaler

    name = args.jpeg_model or "edsr-baseline-jpeg"
    try:
        path = resolve_weights(name)
    except WeightsError:
        if args.jpeg_model:
            raise
        return None, ""  # not shipped here: the check says the JPEG-trained model is not available
    mine = upscaler.weights.path
    if mine is not None and path.resolve() == mine.resolve():
        return None, ""
    try:
        return Upscaler(load_weights(path), device=args.device, precision=args.precision), name
    except (RuntimeError, ValueError) as exc:
        raise WeightsError(f"--jpeg-model {name}: {exc}") from None
