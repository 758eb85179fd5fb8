"""`python -m liif <experiment>`: one command per registered experiment (liif/lessons/experiment.py), made
from its spec. The picture is the positional IN, each other field an option, -o the file it writes."""

from functools import partial

from liif import settings
from liif.cli.common import add_model_options, checked, fail, look_real_pair, make_upscaler


def add_experiments(sub):
    from liif.lessons.experiment import experiments

    for spec in experiments():
        add_experiment(sub, spec)


def add_experiment(sub, spec):
    from liif.render import imageio

    p = sub.add_parser(spec.name, help=spec.help, description=spec.description)
    for f in spec.inputs:
        named = {"metavar": f.label.upper()} if f.label else {}
        if f.kind == "picture":
            p.add_argument(f.name, metavar=f.label.upper() or "IN",
                           help=f.help or f"an image file ({imageio.SUPPORTED_NAMES})")
        elif f.kind == "point":
            p.add_argument(f.option, dest=f.name, type=checked(parse_point), metavar="X,Y", help=f.help)
        elif f.kind == "choice":
            p.add_argument(f.option, dest=f.name, choices=f.choices, default=f.default, help=f.help)
        elif f.kind == "flag":
            p.add_argument(f.option, dest=f.name, action="store_true", help=f.help)
        elif f.kind == "text":
            p.add_argument(f.option, dest=f.name, default=f.default, help=f.help, **named)
        else:
            p.add_argument(f.option, dest=f.name, type=int if f.kind == "int" else float, default=f.default,
                           choices=f.choices or None, help=f.help, **named)
    p.add_argument("-o", "--output", required=spec.file_required, metavar=f"OUT{spec.suffix}", help="the file to write")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    if spec.look_real == "only":  # the pair is the model: named by its sharp half
        p.add_argument("--sharp-model", default="edsr-baseline-gan", metavar="NAME|PATH",
                       help="the model trained to look real; its average-minded twin is the model it was trained from")
        p.add_argument("--precision", choices=["auto", *settings.PRECISIONS], default="auto")
    else:
        add_model_options(p)
    p.set_defaults(func=partial(run_experiment, spec))


def parse_point(text):
    from liif.render.imageio import ImageInputError

    try:
        x, y = (float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise ImageInputError(f"a point must be two numbers X,Y, e.g. 30,24, not {text!r}") from None
    return x, y


def run_experiment(spec, args) -> int:
    import json
    from pathlib import Path

    from liif.core.weights import WeightsError
    from liif.render import imageio

    if args.output and Path(args.output).suffix.lower() != spec.suffix:
        return fail(f"-o {args.output}: {spec.noun} is written as a {spec.suffix} file, so name a {spec.suffix} file", 2)
    models = {}
    try:
        if spec.look_real == "only":
            average, sharp = look_real_pair(args.sharp_model, args.precision)
            upscaler, models["look_real"] = average, (average, sharp)
        else:
            upscaler = make_upscaler(args)
            if upscaler is None:
                return 2
            if spec.look_real == "also":
                models["look_real"] = look_real_pair(precision=args.precision, device=args.device, required=False)
        values = {f.name: getattr(args, f.name) for f in spec.inputs}
        outcome = spec.run(upscaler, values, out_path=args.output, **models)
    except (imageio.ImageInputError, WeightsError) as exc:
        return fail(exc.for_command_line() if isinstance(exc, imageio.ImageInputError) else str(exc), 2)
    if args.json:
        print(json.dumps(outcome.summary, indent=2))
        return 0
    picture = next((getattr(args, f.name) for f in spec.inputs if f.kind == "picture"), "")
    print(outcome.text or outcome.markdown.replace("**", ""))
    if args.output:
        print(f"{picture} -> {args.output}" + (f" ({outcome.line})" if outcome.line else ""))
    return 0
