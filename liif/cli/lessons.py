"""`python -m liif check`, `zoom` and `ladder`: the page's experiments from the command line (liif/lessons/)."""

from liif.cli.common import add_model_options, checked, fail, make_upscaler, sharp_guess


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


def add_zoom(sub):
    from liif.lessons import zoom
    from liif.render import imageio

    p = sub.add_parser("zoom", help="render a continuous zoom into a picture as an animated WebP",
                       description="Zoom from the whole picture down to a few input pixels around a point, "
                                   "LIIF rendered at every frame next to bicubic; writes an animated WebP.")
    p.add_argument("image", metavar="IN", help=f"an image file ({imageio.SUPPORTED_NAMES})")
    p.add_argument("-o", "--output", required=True, metavar="OUT.webp", help="the animated WebP to write")
    p.add_argument("--centre", type=checked(_point), metavar="X,Y",
                   help="where the zoom ends, in input pixels (default: the middle)")
    p.add_argument("--zoom", type=float, default=zoom.DEFAULT_ZOOM, help="how many times closer the last frame is")
    p.add_argument("--frames", type=int, default=zoom.DEFAULT_FRAMES)
    p.add_argument("--size", type=int, default=zoom.DEFAULT_SIZE, help="each panel's short side in pixels")
    add_model_options(p)
    p.set_defaults(func=_run_zoom)


def _point(text):
    from liif.render.imageio import ImageInputError

    try:
        x, y = (float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise ImageInputError(f"a point must be two numbers X,Y, e.g. 30,24, not {text!r}") from None
    return x, y


def _upscaler_writing(args, suffix: str, what: str):
    """The model for a command that writes its picture to -o, once the name is checked to end in `suffix`;
    None, with the reason said, when it does not or the model cannot be loaded."""
    from pathlib import Path

    if Path(args.output).suffix.lower() != suffix:
        fail(f"-o {args.output}: {what}, so name a {suffix} file", 2)
        return None
    return make_upscaler(args)


def _run_zoom(args):
    from liif.lessons import zoom
    from liif.render import imageio

    upscaler = _upscaler_writing(args, ".webp", "the movie is an animated WebP")
    if upscaler is None:
        return 2
    try:
        loaded = imageio.load_image(args.image)
        movie = zoom.zoom_movie(upscaler, loaded, args.centre, args.zoom, args.frames, args.size, path=args.output)
    except imageio.ImageInputError as exc:
        return fail(str(exc), 2)
    w, h = movie.frame_size
    print(f"{args.image} -> {args.output} ({len(movie.liif)} frames of {w}×{h} per method, ×{movie.zooms[-1]:.3g} "
          f"at the end; {movie.render_seconds:.1f} s rendering, {movie.seconds:.1f} s in all)")
    return 0


def add_ladder(sub):
    from liif.lessons import ladder
    from liif.render import imageio

    p = sub.add_parser("ladder", help="render one small region at x2 to x16, side by side (the page's scale ladder)",
                       description="The same few input pixels around a point rendered at each scale and shown at "
                                   "one size: which scales the model was trained on, and how much each step changes "
                                   "the picture. Writes the rungs side by side as a labelled PNG.")
    p.add_argument("image", metavar="IN", help=f"an image file ({imageio.SUPPORTED_NAMES})")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the labelled PNG to write")
    p.add_argument("--centre", type=checked(_point), metavar="X,Y",
                   help="the region's centre, in input pixels (default: the middle)")
    p.add_argument("--side", type=float, default=ladder.DEFAULT_SIDE, help="input pixels across the region")
    p.add_argument("--scale", type=float, help="one more scale to add to x2, x4, x6, x8 and x16")
    add_model_options(p)
    p.set_defaults(func=_run_ladder)


def _run_ladder(args):
    from PIL import Image

    from liif.lessons import ladder
    from liif.render import imageio, pictures

    upscaler = _upscaler_writing(args, ".png", "the ladder is written as a PNG")
    if upscaler is None:
        return 2
    try:
        loaded = imageio.load_image(args.image)
        rungs = ladder.ladder(upscaler, loaded, args.centre, extra_scale=args.scale, side=args.side)
        sheet = pictures.side_by_side(*(pictures.label(r.picture, r.caption) for r in rungs), gap=4)
        imageio.save_png(Image.fromarray(sheet), args.output)
    except imageio.ImageInputError as exc:
        return fail(str(exc), 2)
    print("\n".join(f"- {r.sentence}" for r in rungs).replace("**", ""))
    print(ladder.summary(rungs, ladder.training_scales(upscaler.weights)[1]).replace("**", ""))
    print(f"{args.image} -> {args.output} ({len(rungs)} pictures of {rungs[0].picture.shape[1]} px)")
    return 0
