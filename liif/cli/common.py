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
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["auto", *settings.PRECISIONS], default="auto")


def make_upscaler(args):
    """The model on the chosen device, or None after printing why not."""
    from liif.core.weights import WeightsError, load_weights
    from liif.render.engine import Upscaler

    try:
        return Upscaler(load_weights(args.model), device=args.device, precision=args.precision)
    except (WeightsError, RuntimeError, ValueError) as exc:
        fail(str(exc), 2)
        return None
