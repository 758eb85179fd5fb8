"""`python -m liif eval`, `bench` and `card`: quality under the paper's protocol, speed, the model card."""

import argparse
import json
import shlex
import sys
from pathlib import Path

from liif import settings
from liif.cli.common import fail


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


def add_eval(sub):
    p = sub.add_parser("eval", help="PSNR / SSIM on benchmark sets under the LIIF paper's protocol, beside bicubic")
    p.add_argument("--data", required=True, help="benchmark root with <Set>/HR and <Set>/LR_bicubic/Xk, "
                                                 "e.g. ../shared/data/benchmark")
    p.add_argument("--sets", type=_comma_list, default=["Set5", "Set14", "B100"], help="default: Set5,Set14,B100")
    p.add_argument("--scales", type=_scale_list, default=[2, 3, 4, 6, 8], help="default: 2,3,4,6,8")
    p.add_argument("--model", metavar="rdn|edsr-baseline|PATH",
                   help="a shipped model (rdn, the default; edsr-baseline) or a weights file: our .safetensors "
                        "or the authors' .pth")
    p.add_argument("--compare", metavar="MODEL", help="a second model scored beside --model (a shipped name or a file)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["auto", *settings.PRECISIONS], default="fp32",
                   help="fp32 by default, so scores measure the model rather than bf16 rounding")
    p.add_argument("--json", default="eval-results.json", help="where to write the results (default: %(default)s)")
    p.add_argument("--bicubic-only", action="store_true", help="score only the bicubic baseline (no model needed)")
    p.add_argument("--against", choices=settings.PRECISIONS, metavar="PRECISION",
                   help="score the model in --precision and in this one on the same images: PSNR-Y of each, the "
                        "change and the largest pixel difference (e.g. --precision int8 --against fp32)")
    p.add_argument("--tile", type=int, help="encoder tile size in input pixels (to measure what tiling changes)")
    p.add_argument("--overlap", type=int, help="encoder tile overlap in input pixels")
    p.add_argument("--jpeg-quality", type=int, metavar="Q",
                   help="save every LR input as a JPEG of quality Q (1-95) first, as a web thumbnail would be")
    p.set_defaults(func=_run_eval)


def _run_eval(args):
    from liif.core.weights import WeightsError, resolve_weights
    from liif.evaluation.benchmark import compare_precisions, format_comparison, format_table, run_benchmark

    command = shlex.join(["python", "-m", "liif", *sys.argv[1:]])
    if not args.against and args.jpeg_quality is not None and not 1 <= args.jpeg_quality <= 95:
        return fail("--jpeg-quality must be between 1 and 95", 2)
    try:
        if args.against:
            report = compare_precisions(args.data, args.sets, args.scales, args.precision, args.against,
                                        model_path=args.model, device=args.device)
            report["command"] = command
        else:
            report = run_benchmark(args.data, args.sets, args.scales, model_path=args.model, device=args.device,
                                   precision=args.precision, bicubic_only=args.bicubic_only, command=command,
                                   tile=args.tile, overlap=args.overlap, jpeg_quality=args.jpeg_quality,
                                   compare_path=resolve_weights(args.compare) if args.compare else None)
    except (WeightsError, FileNotFoundError, ValueError, RuntimeError) as exc:
        return fail(str(exc), 2)
    if args.against:
        print(f"model: {report['model']} ({report['engines']})\n")
        print(format_comparison(report))
    else:
        if report["model"]:
            model = report["model"]
            print(f"model: {model['file']} ({model['precision']}, {model['device']})\n")
        print(format_table(report["results"]))
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return 0


def add_bench(sub):
    p = sub.add_parser("bench", help="time the fast engine against the paper's reference algorithm")
    p.add_argument("--quick", action="store_true", help="one small workload, EDSR-baseline only (under a minute)")
    p.add_argument("--encoders", type=_comma_list, default="rdn,edsr-baseline", help="comma-separated: rdn, edsr-baseline")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--repeats", type=int, default=3, help="timed runs after one warm-up; the median is reported")
    p.add_argument("--workloads", type=_comma_list, help="comma-separated parts of workload names to run (default: all)")
    p.add_argument("--no-reference", action="store_true", help="skip the slow reference path")
    p.add_argument("--precisions", type=_comma_list, help="comma-separated: fp32, bf16, int8 (default: every one "
                                                           "this machine runs fast, and fp32)")
    p.add_argument("--weights", type=_comma_list, help="comma-separated weights files (e.g. weights/rdn-liif.safetensors) "
                                                        "to time instead of the random initial weights of their encoder")
    p.add_argument("--json", help="also write the results here")
    p.set_defaults(func=_run_bench)


def _run_bench(args):
    import torch

    from liif.evaluation import bench
    from liif.render.precision import cpu_facts, cpu_name

    encoders = ["edsr-baseline"] if args.quick else args.encoders
    workloads = bench.QUICK if args.quick else bench.WORKLOADS
    if args.workloads:
        workloads = [w for w in workloads if any(part in w.name for part in args.workloads)]
    repeats = 1 if args.quick else args.repeats
    unknown = sorted(set(args.precisions or []) - set(settings.PRECISIONS))
    if unknown:
        return fail(f"unknown precision {', '.join(unknown)}: use {', '.join(settings.PRECISIONS)}", 2)
    facts = cpu_facts()
    print(f"machine: {cpu_name()} (bf16 units: {'yes' if facts.fast_bf16 else 'no'}, int8 dot products: "
          f"{facts.int8 or 'none'}), {torch.get_num_threads()} threads, torch {torch.__version__}\n")
    weights = {}
    for path in args.weights or []:
        from liif.core.weights import load_model

        weights[load_model(path).config.encoder] = path
    print(f"weights: {', '.join(f'{name}: {path}' for name, path in weights.items()) or 'the random initial ones'}\n")
    rows = bench.run_bench(encoders, workloads, args.device, repeats, reference=not args.no_reference,
                           weights=weights, precisions=args.precisions, progress=lambda m: print(m, file=sys.stderr))
    print(bench.format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            f.write(bench.to_json(rows))
    return 0


def add_card(sub):
    p = sub.add_parser("card", help="write weights/README.md (the model card) from the shipped files' measurements")
    p.add_argument("--check", action="store_true", help="only check that the card is up to date (exit 1 if not)")
    p.set_defaults(func=_run_card)


def _run_card(args):
    from liif.core.weights import WEIGHTS_DIR
    from liif.evaluation.card import render_card

    card_path = WEIGHTS_DIR / "README.md"
    card = render_card()
    if args.check:
        if card_path.exists() and card_path.read_text() == card:
            print(f"{card_path} is up to date")
            return 0
        return fail(f"{card_path} differs from what the weights files say; run `python -m liif card`", 1)
    card_path.write_text(card)
    print(f"wrote {card_path}")
    return 0
