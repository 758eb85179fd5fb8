"""Check against the real photo as an experiment of the story (liif/lessons/experiment.py): step 4's spec,
from which `python -m liif check`, the endpoint /check and the page's guarded handler are made. The work is
liif/lessons/check.py's (the plain check) and liif/lessons/check_jpeg.py's (the tiny version saved as a
JPEG first, the photo model and the JPEG-trained one on it); the command's --json adds the page's guessing
game (liif/lessons/guess.py)."""

from pathlib import Path

from liif.lessons import check, check_jpeg, experiment, guess, originals, sharp
from liif.render import imageio

JPEG, SHARP = "jpeg model", "sharp guess"  # the roles of its models beside the photo model


def _source(picture):
    """A shipped photo's key ("astronaut") as its file; any other picture as it is."""
    return originals.original_path(picture) if isinstance(picture, str) and picture in originals.ORIGINALS else picture


def _seconds(speeds, values) -> float:
    """The tiny version (at most the working size a side) brought back at the scale, once per model."""
    width, height = experiment.picture_size(_source(values["picture"]))
    scale = check.check_scale(values["scale"])
    tiny = min(max(width, height) // scale, int(values.get("working_size") or check.DEFAULT_WORKING_SIZE))
    models = 1 if check_jpeg.check_quality(values.get("jpeg_quality")) is None else 2
    return models * speeds["model"].seconds(tiny * tiny, (tiny * scale) ** 2)


def _file_name(values) -> str:
    """The comparison's name: "<photo>-check-x<scale>[-jpeg<quality>].png"."""
    source, quality = _source(values["picture"]), check_jpeg.check_quality(values.get("jpeg_quality"))
    stem = Path(str(source)).stem if isinstance(source, (str, Path)) else "photo"
    return f"{stem}-check-x{check.check_scale(values['scale'])}" + (f"-jpeg{quality}" if quality else "") + ".png"


def _jpeg_check(values) -> bool:
    return check_jpeg.check_quality(values.get("jpeg_quality")) is not None


def _run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None) -> experiment.Outcome:
    """The plain check, or with a JPEG quality the JPEG check: the photo model and the JPEG-trained one (the
    one named, else the shipped one when it is here) on the same JPEG."""
    source, working_size = _source(values["picture"]), values.get("working_size") or check.DEFAULT_WORKING_SIZE
    shipped = originals.known(source)
    model_name, upscaler = models["model"]
    named = {"name": shipped.label if shipped else None, "model_name": model_name}
    quality = check_jpeg.check_quality(values.get("jpeg_quality"))
    if quality is None and JPEG in models.named:
        raise imageio.ImageInputError("--jpeg-model compares models on a JPEG: give --jpeg-quality Q as well")
    if quality is None:
        result = check.check(upscaler, source, values["scale"], working_size, **named,
                             progress=progress and (lambda f: progress(f, "LIIF: bringing the tiny photo back")))
    else:
        opened = models[JPEG]
        second, second_name = (None, "") if opened is None or opened[1] is upscaler else (opened[1], opened[0])
        result = check_jpeg.check_jpeg(upscaler, source, values["scale"], quality, second, working_size, **named,
                                       second_name=second_name,
                                       progress=progress and (lambda f: progress(f, "LIIF: bringing the tiny JPEG back")))
    if out_path is not None:
        imageio.save_png(result.share_image(), out_path)
    return experiment.Outcome(result.summary(), result.markdown(), file=out_path, result=result)


def _game(outcome, values, models) -> dict:
    """The command's --json after a plain check: the page's "Which one is real?" (liif/lessons/guess.py), its
    shuffled pictures' fit to the tiny input and distances to the real photo, the sharp guess among them when
    the model trained to look real is here."""
    result = outcome.result
    if not isinstance(result, check.Check):
        return {}
    try:
        opened = models[SHARP]
        drawn = None if opened is None else sharp.guess_picture(opened[1], result.tiny, result.scale)
        return {"which_one_is_real": guess.guess(result, sharp=drawn).summary()}
    except imageio.ImageInputError as exc:
        return {"which_one_is_real": {"problem": str(exc)}}


EXPERIMENT = experiment.register(experiment.Experiment(
    "check", "4. Check against the real photo", "a check against the real photo",
    help="shrink a photo, bring it back with bicubic and LIIF, measure both against it",
    description="Check against the real photo: shrink PHOTO by the scale (antialiased bicubic, as the training "
                "inputs were made), upscale the tiny version with bicubic and with LIIF, and print PSNR-Y, SSIM-Y "
                "and where LIIF got closer. With --jpeg-quality the tiny version is saved as a JPEG first, and the "
                "model trained on compressed inputs brings the same JPEG back too. --json adds which_one_is_real "
                "to the plain check: the page's guessing game.",
    inputs=(experiment.Field("picture", "picture", metavar="PHOTO",
                             help=f"a photo at least scale x {check.MIN_TINY_SIDE} pixels a side, or a shipped one: "
                                  f"{', '.join(originals.ORIGINALS)}"),
            experiment.Field("scale", "int", check.DEFAULT_SCALE, choices=check.SCALES),
            experiment.Field("working_size", "int", check.DEFAULT_WORKING_SIZE, metavar="N", cli_only=True,
                             help="the tiny version's long side at most (a larger photo is reduced first)"),
            experiment.Field("jpeg_quality", "int", None, metavar="Q", cli_only=True,
                             help="save the tiny version as a JPEG of quality Q (1-95) first, as a web thumbnail "
                                  "would be, and compare the --model with the JPEG-trained model on it")),
    models=(experiment.Role(),
            experiment.Role(JPEG, check_jpeg.JPEG_MODEL, "--jpeg-model", False, metavar="edsr-baseline-jpeg|PATH",
                            help="with --jpeg-quality: the model trained on compressed inputs (default: the shipped "
                                 "edsr-baseline-jpeg, when it is here)", when=_jpeg_check),
            # the game's sharp guess: the shipped model trained to look real
            experiment.Role(SHARP, "edsr-baseline-gan", required=False, when=lambda values: not _jpeg_check(values),
                            json_only=True)),
    estimate=_seconds, run=_run, output="optional", output_flags=("--share",),
    output_help="write tiny | bicubic | LIIF | real, with the numbers, as one PNG", file_name=_file_name,
    endpoint_picture=True, more_json=_game))
