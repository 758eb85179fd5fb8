"""What every command shares: one-line failures, argparse types from liif's parsers, the model options."""

import argparse
import sys
import time

from liif import settings

STARTED = time.perf_counter()  # the start of a `train --minutes` time box: when the command began


def fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def checked(parse):
    """An argparse `type=` from one of imageio's parsers, so bad values get its one-line message."""

    def convert(text):
        from liif.render.imageio import ImageInputError

        try:
            return parse(text)
        except ImageInputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def add_model_options(p):
    # The app's setting is honoured here too, so `python -m liif` and the page run the same model.
    default = settings.weights()
    p.add_argument("--model", metavar="rdn|edsr-baseline|edsr-baseline-jpeg|PATH", default=str(default) if default else None,
                   help="a shipped model (rdn, the default; edsr-baseline, faster; edsr-baseline-jpeg, for JPEG "
                        "thumbnails) or a weights file "
                        f"(.safetensors of ours, or the authors' .pth); default ${settings.WEIGHTS} when set")
    p.add_argument("--blend", type=float, metavar="W",
                   help="with a model trained to look real (--model edsr-baseline-gan): run the blend of its weights "
                        "and those of the model it was trained from, W of the way to it (0: the average, 1: the "
                        "sharp guess)")
    add_device_options(p)


def add_device_options(p):
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["auto", *settings.PRECISIONS], default="auto")


def make_upscaler(args):
    """The model on the chosen device, or None after printing why not."""
    from liif.core.weights import WeightsError, load_weights
    from liif.render.engine import Upscaler

    try:
        loaded = load_weights(args.model)
        if getattr(args, "blend", None) is not None:
            loaded = blended_weights(loaded, args.blend)
        return Upscaler(loaded, device=args.device, precision=args.precision)
    except (WeightsError, RuntimeError, ValueError) as exc:
        fail(str(exc), 2)
        return None


def twin_weights(sharp, why: str):
    """The LoadedModel whose weights `sharp`'s training started from (its average-minded twin); WeightsError,
    ending with `why` it is needed, when that file is not here."""
    from liif.core.blend import twin_path
    from liif.core.weights import WEIGHTS_DIR, WeightsError, load_weights

    twin = twin_path(sharp.path, sharp.training, WEIGHTS_DIR)
    if twin is None:
        raise WeightsError(f"{sharp.path.name if sharp.path else 'this model'} names no model it was trained from "
                           f"that is here{why}")
    return load_weights(twin)


def blended_weights(sharp, weight: float):
    """The LoadedModel `weight` of the way from the model `sharp` was trained from to `sharp` (--blend)."""
    from liif.core.blend import blend
    from liif.core.weights import LoadedModel

    average = twin_weights(sharp, ", so there is nothing to blend it with (--blend needs --model edsr-baseline-gan)")
    return LoadedModel(blend(average.model, sharp.model, weight), sharp.path, sharp.format, sharp.metadata,
                       sharp.training)


def look_real_pair(sharp_model="edsr-baseline-gan", precision="auto", device="auto", required=True):
    """(the average-minded model, the model trained to look real) as Upscalers: `sharp_model` and the model
    its training started from. Not both here: WeightsError, or None when not `required`."""
    from liif.core.weights import WeightsError, load_weights, resolve_weights
    from liif.render.engine import Upscaler

    try:
        sharp = load_weights(resolve_weights(sharp_model))
        average = twin_weights(sharp, ": nothing to compare it with")
    except WeightsError:
        if required:
            raise
        return None
    return Upscaler(average, device=device, precision=precision), Upscaler(sharp, device=device, precision=precision)

