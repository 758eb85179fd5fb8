"""`python -m liif <experiment>`: one command per registered experiment (liif/lessons/experiment.py), made
from its spec. The picture is the positional IN, each other field an option, -o the file it writes."""

from functools import partial

from liif.cli.common import add_model_options, checked, fail, make_upscaler


def add_experiments(sub):
    from liif.lessons.experiment import experiments

    for spec in experiments():
        add_experiment(sub, spec)


def add_experiment(sub, spec):
    from liif.render import imageio

    p = sub.add_parser(spec.name, help=spec.help, description=spec.description)
    for f in spec.inputs:
        if f.kind == "picture":
            p.add_argument(f.name, metavar="IN", help=f"an image file ({imageio.SUPPORTED_NAMES})")
        elif f.kind == "point":
            p.add_argument(f.option, dest=f.name, type=checked(parse_point), metavar="X,Y", help=f.help)
        elif f.kind == "choice":
            p.add_argument(f.option, dest=f.name, choices=f.choices, default=f.default, help=f.help)
        else:
            p.add_argument(f.option, dest=f.name, type=int if f.kind == "int" else float, default=f.default,
                           help=f.help)
    p.add_argument("-o", "--output", required=True, metavar=f"OUT{spec.suffix}", help="the file to write")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
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

    if Path(args.output).suffix.lower() != spec.suffix:
        return fail(f"-o {args.output}: {spec.noun} is written as a {spec.suffix} file, so name a {spec.suffix} file", 2)
    upscaler = make_upscaler(args)
    if upscaler is None:
        return 2
    values = {f.name: getattr(args, f.name) for f in spec.inputs}
    try:
        outcome = spec.run(upscaler, values, out_path=args.output)
    except (imageio.ImageInputError, WeightsError) as exc:
        return fail(str(exc), 2)
    if args.json:
        print(json.dumps(outcome.summary, indent=2))
        return 0
    picture = next((getattr(args, f.name) for f in spec.inputs if f.kind == "picture"), "")
    print(outcome.markdown.replace("**", ""))
    print(f"{picture} -> {args.output}" + (f" ({outcome.line})" if outcome.line else ""))
    return 0
