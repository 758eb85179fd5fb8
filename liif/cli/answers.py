"""`python -m liif answers`: many sharp pictures that all shrink back to one tiny photo (liif/lessons/answers.py)."""

from liif.cli.common import add_model_options, fail, make_upscaler, sharp_guess


def add_answers(sub):
    from liif.lessons import answers, originals

    p = sub.add_parser("answers", help="sharp pictures that all shrink back to the same tiny photo, beside LIIF's",
                       description="Many answers fit: LIIF's answer for a tiny photo at ×SCALE beside sharp pictures "
                                   "(detail from a donor photo, LIIF plus grain, the real photo when known, a "
                                   "different picture) made by back-projection to shrink back to it "
                                   f"({answers.OPERATOR}) within {answers.GOAL_LEVELS} level; prints how well each "
                                   "fits.")
    p.add_argument("photo", metavar="PHOTO",
                   help=f"the tiny photo ({answers.MIN_TINY_SIDE} to {answers.MAX_TINY_SIDE} pixels a side), or a "
                        f"shipped one: {', '.join(originals.ORIGINALS)} (shrunk by the scale as the check does, "
                        "so the real photo is known and is one of the answers)")
    p.add_argument("--scale", type=int, default=answers.DEFAULT_SCALE, choices=answers.SCALES)
    p.add_argument("-o", "--output", metavar="SHEET.png", help="write every answer side by side, with its numbers")
    p.add_argument("--out-dir", metavar="DIR", help="write each answer as its own full-size PNG")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    add_model_options(p)
    p.set_defaults(func=_run_answers)


def _run_answers(args):
    import json
    from pathlib import Path

    from PIL import Image

    from liif.lessons import answers, check, originals
    from liif.render import imageio

    try:
        if args.output and Path(args.output).suffix.lower() != ".png":
            raise imageio.ImageInputError(f"-o {args.output}: the sheet is a PNG, so name a .png file")
        if args.output:
            imageio.check_writable_folder(Path(args.output).parent, "the sheet's folder")
        if args.out_dir:
            imageio.check_writable_folder(args.out_dir, "--out-dir")
        real, shipped = None, _shipped_original(args.photo)
        if shipped:  # its name, or its file: the tiny photo is made from it, as the check does
            loaded = imageio.load_image(originals.original_path(shipped))
            real, tiny = check.real_and_tiny(loaded, args.scale, name=args.photo)
        else:
            tiny = imageio.load_image(args.photo)
    except imageio.ImageInputError as exc:
        return fail(exc.for_command_line(), 2)
    upscaler = make_upscaler(args)
    if upscaler is None:
        return 2
    try:
        result = answers.answers(upscaler, tiny, args.scale, real=real, name=shipped or args.photo,
                                 model_name=args.model or "rdn", sharp=sharp_guess(tiny, args.scale))
    except imageio.ImageInputError as exc:
        return fail(exc.for_command_line(), 2)
    if args.output:
        imageio.save_png(result.sheet(), args.output)
    if args.out_dir:
        for i, candidate in enumerate(result.candidates, start=1):
            imageio.save_png(Image.fromarray(candidate.picture), Path(args.out_dir) / f"{i}-{candidate.key}.png")
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    else:
        print(result.markdown().replace("**", "").replace("*", ""))
    return 0


def _shipped_original(photo: str) -> str | None:
    """The shipped original that PHOTO names (its key, or the path of its file), or None."""
    from pathlib import Path

    from liif.lessons import originals

    if photo in originals.ORIGINALS:
        return photo
    path = Path(photo).resolve()
    return next((key for key, o in originals.ORIGINALS.items() if path == (originals.ORIGINALS_DIR / o.file).resolve()),
                None)

