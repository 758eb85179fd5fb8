"""`python -m liif upscale` and `info`: images to any size, and what a model file holds."""

import sys
import time
from pathlib import Path

from liif.cli.common import add_model_options, checked, fail, make_upscaler
from liif.core import fmt


def _output_option(which: str):
    """The parser of --scale, --width or --height: the value as `sizes.output_size` checks it (ImageInputError
    otherwise), a positive finite scale or a whole number of pixels."""

    def parse(text):
        from liif.render.sizes import output_size

        width, height = output_size(1, 1, **{which: text})
        return {"scale": float(text), "width": width, "height": height}[which]

    return parse


def _pixels(text):
    from liif.render.imageio import parse_pixels

    return parse_pixels(text, "a pixel limit")


def add_upscale(sub):
    from liif import settings
    from liif.render import imageio, sizes

    p = sub.add_parser("upscale", help="upscale images to any size with LIIF (writes PNG)",
                       description="Upscale images to any size with LIIF. Outputs are lossless PNG; "
                                   "greyscale and transparency are kept.")
    p.add_argument("inputs", nargs="+", metavar="IN", help=f"image files ({imageio.SUPPORTED_NAMES})")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", type=checked(_output_option("scale")), metavar="S", help="scale factor, e.g. 4 or 3.5")
    size.add_argument("--size", type=checked(sizes.parse_size), metavar="WxH", help="exact output size, e.g. 1920x1080")
    size.add_argument("--width", type=checked(_output_option("width")), metavar="W", help="output width; height keeps the aspect ratio")
    size.add_argument("--height", type=checked(_output_option("height")), metavar="H", help="output height; width keeps the aspect ratio")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", metavar="OUT", help="output .png file (one input only)")
    out.add_argument("--out-dir", metavar="DIR", help="folder for the outputs, named after each input (.png)")
    add_model_options(p)
    p.add_argument("--region", type=checked(sizes.parse_region), metavar="X0,Y0,X1,Y1",
                   help="render only this box of the input (input pixels, fractions allowed), at the chosen scale")
    p.add_argument("--max-input-pixels", type=checked(_pixels), metavar="N",
                   help=f"refuse larger inputs (default {imageio.DEFAULT_MAX_INPUT_PIXELS:,}, or ${settings.MAX_INPUT_PIXELS})")
    p.add_argument("--max-output-pixels", type=checked(_pixels), metavar="N",
                   help=f"refuse larger outputs (default {imageio.DEFAULT_MAX_OUTPUT_PIXELS:,}, or ${settings.MAX_OUTPUT_PIXELS})")
    p.set_defaults(func=_run_upscale)


def _output_paths(args) -> list:
    """(input, output) pairs; raises ImageInputError for an unusable -o or --out-dir, before any work."""
    from liif.render.imageio import ImageInputError, check_writable_folder

    inputs = [Path(name) for name in args.inputs]
    if args.output is None:
        check_writable_folder(args.out_dir, "--out-dir")
        return [(source, Path(args.out_dir) / f"{source.stem}.png") for source in inputs]
    target = Path(args.output)
    if target.suffix == "":
        target = target.with_suffix(".png")
    if target.suffix.lower() != ".png":
        raise ImageInputError(f"-o {args.output}: outputs are lossless PNG, so name a .png file")
    if target.is_dir():
        raise ImageInputError(f"-o {target} is a folder; name a .png file, or use --out-dir")
    check_writable_folder(target.parent, f"the folder of -o {target}:")
    return [(inputs[0], target)]


# A job expected to take longer than this gets an estimate first; without a terminal (a log, a pipe),
# progress is printed as lines about this often, so a long job is never silent.
ESTIMATE_AFTER_SECONDS = 60.0
PROGRESS_LINE_SECONDS = 30.0


class _ProgressLines:
    """Progress for a log: "photo.png: 40% of 4800 rows, 2m10s so far, about 3m15s left" every
    PROGRESS_LINE_SECONDS (tqdm's bar is for terminals only)."""

    def __init__(self, name: str, rows: int):
        self.name, self.rows = name, rows
        self.start = self.last = time.monotonic()

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_LINE_SECONDS or fraction >= 1:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        print(f"{self.name}: {fraction:.0%} of {self.rows} rows, {fmt.duration(elapsed)} so far, "
              f"about {fmt.duration(left)} left", file=sys.stderr, flush=True)


def _run_upscale(args):
    from tqdm import tqdm

    from liif.render import imageio, sizes
    from liif.render.upscale import upscale_image

    if args.output is not None and len(args.inputs) > 1:
        return fail(f"-o names one output file but {len(args.inputs)} inputs were given; use --out-dir DIR", 2)
    try:
        pairs = _output_paths(args)
        max_in = imageio.max_input_pixels(args.max_input_pixels)
        max_out = imageio.max_output_pixels(args.max_output_pixels)
    except imageio.ImageInputError as exc:
        return fail(exc.for_command_line(), 2)
    upscaler = None  # loaded for the first input that passes its checks (2-4 s and ~650 MB)

    failed, written = 0, set()
    sources = {source.resolve() for source, _ in pairs}  # `--out-dir .` must not replace a.png with a.jpg's result
    for source, target in pairs:
        start = time.perf_counter()
        loaded = None
        try:
            if target.resolve() in written:
                raise imageio.ImageInputError(f"{source}: its output {target} would overwrite another input's "
                                              "output in this run")
            if target.resolve() in sources:
                raise imageio.ImageInputError(f"{source}: writing {target} would overwrite an input file; "
                                              "choose another output")
            loaded = imageio.load_image(source, max_pixels=max_in, name=str(source))  # its messages name the file
            if args.region is not None:
                x0, y0, x1, y1 = sizes.check_region(args.region, loaded.width, loaded.height)
                in_w, in_h, what = x1 - x0, y1 - y0, "region"
            else:
                in_w, in_h, what = loaded.width, loaded.height, "image"
            out_w, out_h = sizes.output_size(in_w, in_h, scale=args.scale, size=args.size,
                                               width=args.width, height=args.height)
            sizes.check_output_size(in_w, in_h, out_w, out_h, max_pixels=max_out, what=what)
            if upscaler is None:
                upscaler = make_upscaler(args)
                if upscaler is None:
                    return 2
            _estimate(upscaler, source, in_w * in_h, out_w, out_h)
            # On a terminal, tqdm's bar (after a second: most renders are quicker); otherwise log lines.
            with tqdm(total=out_h, desc=source.name, unit="row", delay=1.0, leave=False, file=sys.stderr,
                      disable=None) as bar:
                progress = (_ProgressLines(source.name, out_h) if bar.disable
                            else lambda fraction: bar.update(round(fraction * out_h) - bar.n))
                image = upscale_image(upscaler, loaded, out_w, out_h, progress=progress, region=args.region)
            imageio.save_png(image, target)
        except (imageio.ImageInputError, MemoryError, RuntimeError, OSError) as exc:
            failed += 1
            said = _failure(exc, target)
            print(f"error: {said}" if loaded is None else f"error: {source}: {said}", file=sys.stderr)
            continue
        written.add(target.resolve())
        for notice in loaded.notices:
            print(f"note: {source}: {notice}", file=sys.stderr)
        print(f"{source} -> {target} ({out_w}×{out_h}, {time.perf_counter() - start:.1f} s)", flush=True)
    return 1 if failed else 0


def _failure(exc, target) -> str:
    """What went wrong with one input, as its error line says it."""
    import torch

    from liif.render.imageio import ImageInputError

    if isinstance(exc, ImageInputError):
        return exc.for_command_line()
    # PyTorch reports a failed CPU allocation as a plain RuntimeError
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
            isinstance(exc, RuntimeError) and ("alloc" in str(exc).lower() or "memory" in str(exc).lower())):
        return "ran out of memory; choose a smaller scale or a --region"
    if isinstance(exc, RuntimeError):
        return f"the model failed: {str(exc).splitlines()[0]}"
    return f"could not write {target}: {exc.strerror or exc}"  # the output side: a read-only folder, a full disk


def _estimate(upscaler, source, in_pixels, out_w, out_h) -> None:
    """Before a job that will take minutes: say so, with the output size and an estimate measured on
    this machine (engine.Upscaler.speed times the model once, in about a second)."""

    if out_w * out_h < 1_000_000:  # under a megapixel: seconds, not minutes, on any machine this runs on
        return
    seconds = upscaler.speed().seconds(in_pixels, out_w * out_h)
    if seconds >= ESTIMATE_AFTER_SECONDS:
        print(f"{source}: {out_w}×{out_h} ({fmt.megapixels(out_w * out_h)}) will take about {fmt.duration(seconds)} "
              "here (estimated from this machine's speed)", file=sys.stderr, flush=True)


def add_info(sub):
    p = sub.add_parser("info", help="describe a model: architecture, size, device, how it was trained")
    add_model_options(p)
    p.set_defaults(func=_run_info)


def _run_info(args):
    from liif.core.model import count_parameters

    upscaler = make_upscaler(args)
    if upscaler is None:
        return 2
    weights, model, config = upscaler.weights, upscaler.model, upscaler.model.config
    encoder, decoder = count_parameters(model.encoder), count_parameters(model.imnet)
    residual = {"none": "none (the paper's LIIF)", "bicubic": "bicubic (predicts the difference from bicubic)"}
    lines = [
        ("model file", f"{weights.path} ({weights.path.stat().st_size / 1e6:.1f} MB)"),
        ("format", weights.format),
        ("encoder", config.encoder),
        ("residual", residual.get(config.residual, config.residual)),
        ("decoder", f"MLP {config.hidden}, feat_unfold={config.feat_unfold}, "
                    f"local_ensemble={config.local_ensemble}, cell_decode={config.cell_decode}"),
        ("parameters", f"encoder {encoder:,} + decoder {decoder:,} = {encoder + decoder:,}"),
        ("device", str(upscaler.device)),
        ("precision", upscaler.precision),
    ]
    if weights.training is not None:
        lines.append(("training", ""))
        lines += [(f"  {key}", value) for key, value in weights.training.items()]
    elif "training" in weights.metadata:
        lines.append(("training", f"(unreadable) {weights.metadata['training']}"))
    else:
        lines.append(("training", "no training record in this file"))
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{width + 1}} {value}".rstrip())
    return 0
