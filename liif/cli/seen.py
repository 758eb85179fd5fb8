"""`python -m liif seen`: the same tiny picture through the photo model and the text model (liif/lessons/seen.py)."""

from liif import settings
from liif.cli.common import fail


def add_seen(sub):
    from liif.lessons import originals, seen

    known = ", ".join([*originals.GENERATED, *originals.ORIGINALS])
    p = sub.add_parser("seen", help="the same tiny picture through the photo model and the text model",
                       description="What it has seen decides what it draws: enlarge one tiny picture with bicubic, "
                                   "with a model trained on photos and with the model trained on printed text, measure "
                                   "each against the real picture when it is known, and say what each model was "
                                   "trained on (from its weights' training record and the data facts beside them).")
    p.add_argument("photo", metavar="PHOTO",
                   help=f"the tiny picture, or a shipped one to shrink first: {known} (assets/seen/sign-x4.png is "
                        "the sign's exact x4 shrink and is recognised)")
    p.add_argument("--scale", type=int, default=seen.DEFAULT_SCALE, choices=seen.SCALES)
    p.add_argument("--real", metavar="REAL", help="the real picture of the tiny PHOTO, exactly scale times its size")
    p.add_argument("--shrink", action="store_true",
                   help="PHOTO is the real picture: shrink it by the scale first, as the check does")
    p.add_argument("-o", "--output", metavar="SHEET.png", help="write the pictures and numbers as one PNG")
    p.add_argument("--json", action="store_true", help="print the numbers and the training facts as JSON")
    p.add_argument("--model", metavar="edsr-baseline|PATH", default=None,
                   help="the photo model (default: the model the text model's training started from, else "
                        "edsr-baseline)")
    p.add_argument("--text-model", metavar="text|PATH", default="text",
                   help="the model trained on printed text (default: the shipped edsr-baseline-text)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["auto", *settings.PRECISIONS], default="auto")
    p.set_defaults(func=_run_seen)


def _run_seen(args):
    import json
    from pathlib import Path

    from liif.core.weights import WeightsError, load_weights
    from liif.lessons import seen
    from liif.render import imageio
    from liif.render.engine import Upscaler

    if args.real and args.shrink:
        return fail("--real gives the real picture of a tiny PHOTO; --shrink makes PHOTO the real picture: not both", 2)
    if args.output and Path(args.output).suffix.lower() not in (".png", ""):
        return fail(f"-o {args.output}: the sheet is a PNG, so name a .png file", 2)
    try:
        text = load_weights(args.text_model)
        photo = load_weights(args.model or _photo_default(text))
        engines = [Upscaler(w, device=args.device, precision=args.precision) for w in (photo, text)]
    except (WeightsError, RuntimeError, ValueError) as exc:
        return fail(str(exc), 2)
    labels = [args.model or (photo.path.name if photo.path else "photo model"), args.text_model]
    try:
        result = seen.seen(list(zip(labels, engines)), args.photo, args.scale, real=args.real, shrink=args.shrink)
    except imageio.ImageInputError as exc:
        return fail(str(exc), 2)
    if args.output:
        imageio.save_png(result.sheet(), Path(args.output).with_suffix(".png"))
    if args.json:
        print(json.dumps(result.summary(), indent=2, default=float))
    else:
        print(result.markdown().replace("**", ""))
    return 0


def _photo_default(text) -> str:
    """The model the text model's training started from, when that file is here; else edsr-baseline."""
    from pathlib import Path

    from liif.core.weights import WEIGHTS_DIR

    init = (text.training or {}).get("init")
    if init:
        for candidate in (Path(str(init)), WEIGHTS_DIR / Path(str(init)).name):
            if candidate.is_file():
                return str(candidate)
    return "edsr-baseline"
