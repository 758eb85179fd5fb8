"""`python -m liif {upscale,info,train,eval,bench}`: everything the demo does, from the command line."""

import argparse
import sys
import time

from liif.core import fmt

STARTED = time.perf_counter()  # the start of a `train --minutes` time box


def _add_train(sub):
    from liif.core import encoders

    p = sub.add_parser("train", help="train a LIIF model on folders of photos")
    p.add_argument("--data", nargs="+", help="image folders, e.g. ../shared/data/train/natural")
    p.add_argument("--config", help="YAML file of training options (see configs/)")
    p.add_argument("--name", help="run name: checkpoints in runs/NAME/, weights in weights/NAME.safetensors")
    p.add_argument("--encoder", choices=list(encoders.ENCODERS))
    p.add_argument("--residual", choices=["bicubic", "none"])
    p.add_argument("--steps", type=int, help="planned optimiser steps (the schedule ends there)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak learning rate (Adam)")
    p.add_argument("--schedule", choices=["onecycle", "paper", "constant"])
    p.add_argument("--warmup-steps", type=int)
    p.add_argument("--val-every", type=int)
    p.add_argument("--ckpt-every", type=int)
    p.add_argument("--holdout", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"])
    p.add_argument("--runs-dir")
    p.add_argument("--export", help="weights file to write at the end")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint of this run")
    p.add_argument("--max-steps-this-session", type=int, help="stop (with a checkpoint) after this many steps")
    p.add_argument("--init", metavar="WEIGHTS",
                   help="start from these weights (rdn, edsr-baseline, ours or the authors' .pth) with a fresh "
                        "optimiser and schedule; the encoder and residual mode come from the file")
    p.add_argument("--minutes", type=float, metavar="M",
                   help="time box: measure the step time after a warm-up and plan --steps so the run ends, "
                        "validated and exported, M minutes after it starts")
    p.add_argument("--compile", nargs="?", const="default", metavar="MODE",
                   help="torch.compile the model: default (plain --compile), reduce-overhead (adds CUDA graphs), "
                        "max-autotune or off (the default); see docs/training.md for when it pays")
    p.add_argument("--profile", type=int, metavar="N", default=0,
                   help="profile N training steps after a warm-up, print the top operations and stop")
    p.set_defaults(func=_run_train)


def _run_train(args):
    from liif.training.config import TrainConfig
    from liif.training.loop import train
    from liif.core.weights import WeightsError, resolve_weights

    options = {k: getattr(args, k) for k in (
        "data", "name", "encoder", "residual", "steps", "batch_size", "lr", "schedule", "warmup_steps",
        "val_every", "ckpt_every", "holdout", "seed", "device", "precision", "runs_dir", "export", "minutes",
        "compile")}
    try:
        if args.init:
            options["init"] = str(resolve_weights(args.init))
        cfg = TrainConfig.from_sources(args.config, **options)
    except (WeightsError, ValueError) as exc:
        return _fail(str(exc), 2)
    if not cfg.data:
        raise SystemExit("error: give training images with --data DIR (or `data:` in the --config file)")
    try:
        train(cfg, resume=not args.fresh, max_steps_this_session=args.max_steps_this_session, started=STARTED,
              profile_steps=args.profile)
    except (WeightsError, FileNotFoundError) as exc:
        return _fail(str(exc), 2)
    return 0


# ---- upscale / info (owned by the image I/O work) ----


def _checked(parse):
    """An argparse `type=` from one of imageio's parsers, so bad values get its one-line message."""

    def convert(text):
        from liif.render.imageio import ImageInputError

        try:
            return parse(text)
        except ImageInputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _scale(text):
    from liif.render.sizes import output_size

    output_size(1, 1, scale=text)  # validates: a positive, finite number
    return float(text)


def _width(text):
    from liif.render.sizes import output_size

    return output_size(1, 1, width=text)[0]


def _height(text):
    from liif.render.sizes import output_size

    return output_size(1, 1, height=text)[1]


def _pixels(text):
    from liif.render.imageio import parse_pixels

    return parse_pixels(text, "a pixel limit")


def _add_model_options(p):
    p.add_argument("--model", metavar="rdn|edsr-baseline|PATH",
                   help="a shipped model (rdn, the default; edsr-baseline, faster) or a weights file "
                        "(.safetensors of ours, or the authors' .pth)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto")


def _add_upscale(sub):
    from liif import settings
    from liif.render import imageio, sizes

    p = sub.add_parser("upscale", help="upscale images to any size with LIIF (writes PNG)",
                       description="Upscale images to any size with LIIF. Outputs are lossless PNG; "
                                   "greyscale and transparency are kept.")
    p.add_argument("inputs", nargs="+", metavar="IN", help=f"image files ({imageio.SUPPORTED_NAMES})")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", type=_checked(_scale), metavar="S", help="scale factor, e.g. 4 or 3.5")
    size.add_argument("--size", type=_checked(sizes.parse_size), metavar="WxH", help="exact output size, e.g. 1920x1080")
    size.add_argument("--width", type=_checked(_width), metavar="W", help="output width; height keeps the aspect ratio")
    size.add_argument("--height", type=_checked(_height), metavar="H", help="output height; width keeps the aspect ratio")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", metavar="OUT", help="output .png file (one input only)")
    out.add_argument("--out-dir", metavar="DIR", help="folder for the outputs, named after each input (.png)")
    _add_model_options(p)
    p.add_argument("--region", type=_checked(sizes.parse_region), metavar="X0,Y0,X1,Y1",
                   help="render only this box of the input (input pixels, fractions allowed), at the chosen scale")
    p.add_argument("--max-input-pixels", type=_checked(_pixels), metavar="N",
                   help=f"refuse larger inputs (default {imageio.DEFAULT_MAX_INPUT_PIXELS:,}, or ${settings.MAX_INPUT_PIXELS})")
    p.add_argument("--max-output-pixels", type=_checked(_pixels), metavar="N",
                   help=f"refuse larger outputs (default {imageio.DEFAULT_MAX_OUTPUT_PIXELS:,}, or ${settings.MAX_OUTPUT_PIXELS})")
    p.set_defaults(func=_run_upscale)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _make_upscaler(args):
    """The model on the chosen device, or None after printing why not."""
    from liif.render.engine import Upscaler
    from liif.core.weights import WeightsError, load_weights

    try:
        return Upscaler(load_weights(args.model), device=args.device, precision=args.precision)
    except (WeightsError, RuntimeError, ValueError) as exc:
        _fail(str(exc), 2)
        return None


def _output_paths(args) -> list:
    """(input, output) pairs; raises ImageInputError for an unusable -o or --out-dir, before any work."""
    from pathlib import Path

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

    def __init__(self, name: str, rows: int, every: float | None = None):
        import time

        self.name, self.rows = name, rows
        self.every = PROGRESS_LINE_SECONDS if every is None else every
        self.start = self.last = time.monotonic()

    def __call__(self, fraction: float) -> None:
        import time

        now = time.monotonic()
        if now - self.last < self.every or fraction >= 1:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        print(f"{self.name}: {fraction:.0%} of {self.rows} rows, {fmt.duration(elapsed)} so far, "
              f"about {fmt.duration(left)} left", file=sys.stderr, flush=True)


def _run_upscale(args):
    import time

    import torch
    from tqdm import tqdm

    from liif.render import imageio, sizes
    from liif.render.upscale import upscale_image

    if args.output is not None and len(args.inputs) > 1:
        return _fail(f"-o names one output file but {len(args.inputs)} inputs were given; use --out-dir DIR", 2)
    try:
        pairs = _output_paths(args)
        max_in = imageio.max_input_pixels(args.max_input_pixels)
        max_out = imageio.max_output_pixels(args.max_output_pixels)
    except imageio.ImageInputError as exc:
        return _fail(exc.for_command_line(), 2)
    upscaler = None  # loaded for the first input that passes its checks (2-4 s and ~650 MB)

    failed, written = 0, set()
    sources = {source.resolve() for source, _ in pairs}  # `--out-dir .` must not replace a.png with a.jpg's result
    for source, target in pairs:
        start = time.perf_counter()
        try:
            if target.resolve() in written:
                raise imageio.ImageInputError(f"its output {target} would overwrite another input's output in this run")
            if target.resolve() in sources:
                raise imageio.ImageInputError(f"writing {target} would overwrite an input file; choose another output")
        except imageio.ImageInputError as exc:
            failed += 1
            print(f"error: {source}: {exc}", file=sys.stderr)
            continue
        try:
            loaded = imageio.load_image(source, max_pixels=max_in, name=str(source))
        except imageio.ImageInputError as exc:  # these messages start with the file's name
            failed += 1
            print(f"error: {exc.for_command_line()}", file=sys.stderr)
            continue
        try:
            if args.region is not None:
                x0, y0, x1, y1 = sizes.check_region(args.region, loaded.width, loaded.height)
                in_w, in_h, what = x1 - x0, y1 - y0, "region"
            else:
                in_w, in_h, what = loaded.width, loaded.height, "image"
            out_w, out_h = sizes.output_size(in_w, in_h, scale=args.scale, size=args.size,
                                               width=args.width, height=args.height)
            sizes.check_output_size(in_w, in_h, out_w, out_h, max_pixels=max_out, what=what)
            if upscaler is None:
                upscaler = _make_upscaler(args)
                if upscaler is None:
                    return 2
            _estimate(upscaler, source, in_w * in_h, out_w, out_h)
            # On a terminal, tqdm's bar (after a second: most renders are quicker); otherwise log lines.
            with tqdm(total=out_h, desc=source.name, unit="row", delay=1.0, leave=False, file=sys.stderr,
                      disable=None) as bar:
                lines = _ProgressLines(source.name, out_h) if bar.disable else None

                def progress(fraction):
                    if lines is not None:
                        lines(fraction)
                    else:
                        bar.update(round(fraction * out_h) - bar.n)

                image = upscale_image(upscaler, loaded, out_w, out_h, progress=progress, region=args.region)
            imageio.save_png(image, target)
        except imageio.ImageInputError as exc:
            failed += 1
            print(f"error: {source}: {exc.for_command_line()}", file=sys.stderr)
            continue
        except (torch.OutOfMemoryError, MemoryError):
            failed += 1
            print(f"error: {source}: ran out of memory; choose a smaller scale or a --region", file=sys.stderr)
            continue
        except RuntimeError as exc:  # PyTorch reports a failed CPU allocation as a RuntimeError
            failed += 1
            if "alloc" in str(exc).lower() or "memory" in str(exc).lower():
                print(f"error: {source}: ran out of memory; choose a smaller scale or a --region", file=sys.stderr)
            else:
                print(f"error: {source}: the model failed: {str(exc).splitlines()[0]}", file=sys.stderr)
            continue
        except OSError as exc:  # the output side: a read-only folder, a full disk
            failed += 1
            print(f"error: {source}: could not write {target}: {exc.strerror or exc}", file=sys.stderr)
            continue
        written.add(target.resolve())
        for notice in loaded.notices:
            print(f"note: {source}: {notice}", file=sys.stderr)
        print(f"{source} -> {target} ({out_w}×{out_h}, {time.perf_counter() - start:.1f} s)", flush=True)
    return 1 if failed else 0


def _estimate(upscaler, source, in_pixels, out_w, out_h) -> None:
    """Before a job that will take minutes: say so, with the output size and an estimate measured on
    this machine (engine.Upscaler.speed times the model once, in about a second)."""

    if out_w * out_h < 1_000_000:  # under a megapixel: seconds, not minutes, on any machine this runs on
        return
    seconds = upscaler.speed().seconds(in_pixels, out_w * out_h)
    if seconds >= ESTIMATE_AFTER_SECONDS:
        print(f"{source}: {out_w}×{out_h} ({fmt.megapixels(out_w * out_h)}) will take about {fmt.duration(seconds)} "
              "here (estimated from this machine's speed)", file=sys.stderr, flush=True)


def _add_info(sub):
    p = sub.add_parser("info", help="describe a model: architecture, size, device, how it was trained")
    _add_model_options(p)
    p.set_defaults(func=_run_info)


def _run_info(args):
    from liif.core.model import count_parameters

    upscaler = _make_upscaler(args)
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


# ---- eval (owned by the evaluation work) ----


def _comma_list(text):
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _scale_list(text):
    try:
        scales = [int(item) for item in _comma_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"scales must be whole numbers like 2,3,4,6,8, got {text!r}") from None
    if min(scales) < 1:
        raise argparse.ArgumentTypeError(f"scales must be at least 1, got {text!r}")
    return scales


def _add_eval(sub):
    p = sub.add_parser("eval", help="PSNR / SSIM on benchmark sets under the LIIF paper's protocol, beside bicubic")
    p.add_argument("--data", required=True, help="benchmark root with <Set>/HR and <Set>/LR_bicubic/Xk, "
                                                 "e.g. ../shared/data/benchmark")
    p.add_argument("--sets", type=_comma_list, default=["Set5", "Set14", "B100"], help="default: Set5,Set14,B100")
    p.add_argument("--scales", type=_scale_list, default=[2, 3, 4, 6, 8], help="default: 2,3,4,6,8")
    p.add_argument("--model", metavar="rdn|edsr-baseline|PATH",
                   help="a shipped model (rdn, the default; edsr-baseline) or a weights file: our .safetensors "
                        "or the authors' .pth")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="fp32",
                   help="fp32 by default, so scores measure the model rather than bf16 rounding")
    p.add_argument("--json", default="eval-results.json", help="where to write the results (default: %(default)s)")
    p.add_argument("--bicubic-only", action="store_true", help="score only the bicubic baseline (no model needed)")
    p.add_argument("--tile", type=int, help="encoder tile size in input pixels (to measure what tiling changes)")
    p.add_argument("--overlap", type=int, help="encoder tile overlap in input pixels")
    p.add_argument("--jpeg-quality", type=int, metavar="Q",
                   help="save every LR input as a JPEG of quality Q (1-95) first, as a web thumbnail would be")
    p.set_defaults(func=_run_eval)


def _run_eval(args):
    import json
    import shlex
    from pathlib import Path

    from liif.evaluation.benchmark import format_table, run_benchmark
    from liif.core.weights import WeightsError

    command = shlex.join(["python", "-m", "liif", *sys.argv[1:]])
    if args.jpeg_quality is not None and not 1 <= args.jpeg_quality <= 95:
        print("error: --jpeg-quality must be between 1 and 95", file=sys.stderr)
        return 2
    try:
        report = run_benchmark(args.data, args.sets, args.scales, model_path=args.model, device=args.device,
                               precision=args.precision, bicubic_only=args.bicubic_only, command=command,
                               tile=args.tile, overlap=args.overlap, jpeg_quality=args.jpeg_quality)
    except (WeightsError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if report["model"]:
        model = report["model"]
        print(f"model: {model['file']} ({model['precision']}, {model['device']})\n")
    print(format_table(report["results"]))
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return 0


# ---- bench (owned by the performance work) ----


def _add_bench(sub):
    p = sub.add_parser("bench", help="time the fast engine against the paper's reference algorithm")
    p.add_argument("--quick", action="store_true", help="one small workload, EDSR-baseline only (under a minute)")
    p.add_argument("--encoders", default="rdn,edsr-baseline", help="comma-separated: rdn, edsr-baseline")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--repeats", type=int, default=3, help="timed runs after one warm-up; the median is reported")
    p.add_argument("--workloads", help="comma-separated parts of workload names to run (default: all)")
    p.add_argument("--no-reference", action="store_true", help="skip the slow reference path")
    p.add_argument("--json", help="also write the results here")
    p.set_defaults(func=_run_bench)


def _run_bench(args):
    import platform

    import torch

    from liif.evaluation import bench

    encoders = ["edsr-baseline"] if args.quick else [e.strip() for e in args.encoders.split(",") if e.strip()]
    workloads = bench.QUICK if args.quick else bench.WORKLOADS
    if args.workloads:
        wanted = [w.strip() for w in args.workloads.split(",")]
        workloads = [w for w in workloads if any(part in w.name for part in wanted)]
    repeats = 1 if args.quick else args.repeats
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}", file=sys.stderr)
    rows = bench.run_bench(encoders, workloads, args.device, repeats, reference=not args.no_reference,
                           progress=lambda m: print(m, file=sys.stderr))
    print(bench.format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            f.write(bench.to_json(rows))
    return 0


def _add_card(sub):
    p = sub.add_parser("card", help="write weights/README.md (the model card) from the shipped files' measurements")
    p.add_argument("--check", action="store_true", help="only check that the card is up to date (exit 1 if not)")
    p.set_defaults(func=_run_card)


def _run_card(args):
    from liif.evaluation.card import render_card
    from liif.core.weights import WEIGHTS_DIR

    card_path = WEIGHTS_DIR / "README.md"
    card = render_card()
    if args.check:
        if card_path.exists() and card_path.read_text() == card:
            print(f"{card_path} is up to date")
            return 0
        return _fail(f"{card_path} differs from what the weights files say; run `python -m liif card`", 1)
    card_path.write_text(card)
    print(f"wrote {card_path}")
    return 0


# ---- check / zoom (owned by the experiments work) ----


def _add_check(sub):
    from liif.lessons import check, originals

    p = sub.add_parser("check", help="shrink a photo, bring it back with bicubic and LIIF, measure both against it",
                       description="Check against the real photo: shrink PHOTO by the scale (antialiased bicubic, "
                                   "as the training inputs were made), upscale the tiny version with bicubic and "
                                   "with LIIF, and print PSNR-Y, SSIM-Y and where LIIF got closer.")
    p.add_argument("photo", metavar="PHOTO",
                   help=f"a photo at least scale x {check.MIN_TINY_SIDE} pixels a side, or a shipped one: "
                        f"{', '.join(originals.ORIGINALS)}")
    p.add_argument("--scale", type=int, default=check.DEFAULT_SCALE, choices=check.SCALES)
    p.add_argument("--working-size", type=int, default=check.DEFAULT_WORKING_SIZE, metavar="N",
                   help="the tiny version's long side at most (a larger photo is reduced first)")
    p.add_argument("--share", metavar="OUT.png",
                   help="write tiny | bicubic | LIIF | real, with the numbers, as one PNG")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    _add_model_options(p)
    p.set_defaults(func=_run_check)


def _run_check(args):
    import json

    from liif.lessons import check, originals
    from liif.render import imageio

    source = originals.original_path(args.photo) if args.photo in originals.ORIGINALS else args.photo
    upscaler = _make_upscaler(args)
    if upscaler is None:
        return 2
    try:
        result = check.check(upscaler, source, args.scale, args.working_size, model_name=args.model or "rdn")
    except imageio.ImageInputError as exc:
        return _fail(str(exc), 2)
    if args.share:
        imageio.save_png(result.share_image(), args.share)
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    else:
        print(result.markdown().replace("**", ""))
    return 0


def _add_zoom(sub):
    from liif.lessons import zoom
    from liif.render import imageio

    p = sub.add_parser("zoom", help="render a continuous zoom into a picture as an animated WebP",
                       description="Zoom from the whole picture down to a few input pixels around a point, "
                                   "LIIF rendered at every frame next to bicubic; writes an animated WebP.")
    p.add_argument("image", metavar="IN", help=f"an image file ({imageio.SUPPORTED_NAMES})")
    p.add_argument("-o", "--output", required=True, metavar="OUT.webp", help="the animated WebP to write")
    p.add_argument("--centre", type=_checked(_point), metavar="X,Y",
                   help="where the zoom ends, in input pixels (default: the middle)")
    p.add_argument("--zoom", type=float, default=zoom.DEFAULT_ZOOM, help="how many times closer the last frame is")
    p.add_argument("--frames", type=int, default=zoom.DEFAULT_FRAMES)
    p.add_argument("--size", type=int, default=zoom.DEFAULT_SIZE, help="each panel's short side in pixels")
    _add_model_options(p)
    p.set_defaults(func=_run_zoom)


def _point(text):
    from liif.render.imageio import ImageInputError

    try:
        x, y = (float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise ImageInputError(f"a point must be two numbers X,Y, e.g. 30,24, not {text!r}") from None
    return x, y


def _run_zoom(args):
    from pathlib import Path

    from liif.lessons import zoom
    from liif.render import imageio

    if Path(args.output).suffix.lower() != ".webp":
        return _fail(f"-o {args.output}: the movie is an animated WebP, so name a .webp file", 2)
    upscaler = _make_upscaler(args)
    if upscaler is None:
        return 2
    try:
        loaded = imageio.load_image(args.image)
        movie = zoom.zoom_movie(upscaler, loaded, args.centre, args.zoom, args.frames, args.size, path=args.output)
    except imageio.ImageInputError as exc:
        return _fail(str(exc), 2)
    w, h = movie.frame_size
    print(f"{args.image} -> {args.output} ({len(movie.liif)} frames of {w}×{h} per method, ×{movie.zooms[-1]:.3g} "
          f"at the end; {movie.render_seconds:.1f} s rendering, {movie.seconds:.1f} s in all)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m liif", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_upscale, _add_info, _add_eval, _add_bench, _add_card, _add_check, _add_zoom):  # each command adds its own parser here
        add(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C while loading or between files: a line, not a traceback
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
