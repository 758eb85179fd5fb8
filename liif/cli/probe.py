"""`python -m liif probe`: one output pixel as the sum LIIF computes (liif/lessons/probe.py)."""

import re

from liif.cli.common import add_model_options, fail, make_upscaler


def add_probe(sub):
    from liif.render import imageio

    p = sub.add_parser("probe", help="look inside one output pixel: its 4 latent codes, weights and the bicubic term",
                       description="Write one output pixel of an upscale as the sum the model computes: the four "
                                   "latent codes the local ensemble asks, what the decoder is given and answers for "
                                   "each, the area weights and the bicubic term; and the engine's render of that "
                                   "pixel beside it. The same --model and --precision give the same pixel as "
                                   "`python -m liif upscale`.")
    p.add_argument("photo", metavar="PHOTO", help=f"an image file ({imageio.SUPPORTED_NAMES})")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", metavar="S", help="the upscale's scale factor, e.g. 8 or 3.5")
    size.add_argument("--size", metavar="WxH", help="the upscale's exact output size, e.g. 1920x1080")
    p.add_argument("--at", required=True, metavar="X,Y", help="the output pixel (column, row), counted from 0")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.add_argument("--picture", metavar="OUT.png", help="write the input's pixels around the point, with the grid "
                                                        "points and their weights, as a PNG")
    p.add_argument("--profile", metavar="OUT.png", help="write LIIF along the output row through the point, beside "
                                                        "bicubic and the input's pixels, as a PNG")
    add_model_options(p)
    # "--at -1,5" is a value (outside the output, which its own check says), not an unknown option.
    p._negative_number_matcher = re.compile(r"^-[\d.]+(,[-\d.]*)?$")
    p.set_defaults(func=_run_probe)


def parse_at(text: str) -> tuple:
    """"X,Y" -> (x, y) whole numbers; ImageInputError with one sentence otherwise."""
    from liif.render.imageio import ImageInputError

    parts = text.replace(" ", "").split(",")
    if len(parts) != 2 or not all(re.fullmatch(r"-?\d{1,12}", part) for part in parts):
        raise ImageInputError(f"--at must be two whole numbers X,Y (an output pixel), e.g. 100,60, not {text!r}")
    return int(parts[0]), int(parts[1])


def _run_probe(args):
    import json

    from liif.lessons.probe import probe
    from liif.render import imageio, sizes

    try:
        x, y = parse_at(args.at)
        for path in (args.picture, args.profile):
            if path is not None and not path.lower().endswith(".png"):
                raise imageio.ImageInputError(f"{path}: the pictures are PNG, so name a .png file")
        loaded = imageio.load_image(args.photo)
        out_w, out_h = sizes.output_size(loaded.width, loaded.height, scale=args.scale, size=args.size)
        if not (0 <= x < out_w and 0 <= y < out_h):
            raise imageio.ImageInputError(f"--at {x},{y} is outside the {out_w}×{out_h} output: X runs from 0 to "
                                          f"{out_w - 1} and Y from 0 to {out_h - 1}")
    except imageio.ImageInputError as exc:
        return fail(exc.for_command_line(), 2)
    upscaler = make_upscaler(args)
    if upscaler is None:
        return 2
    try:
        result = probe(upscaler, loaded, x, y, (out_w, out_h))
    except imageio.ImageInputError as exc:
        return fail(str(exc), 2)
    try:
        if args.picture:
            imageio.save_png(result.picture(), args.picture)
        if args.profile:
            imageio.save_png(result.profile_picture(), args.profile)
    except OSError as exc:
        return fail(f"could not write a picture: {exc.strerror or exc}", 1)
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    else:
        print(result.markdown().replace("**", ""))
    return 0
