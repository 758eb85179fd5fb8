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
        named = {"metavar": f.metavar} if f.metavar else {}
        if f.kind == "picture":
            p.add_argument(f.name, metavar=f.metavar or "IN", help=f.help or f"an image file ({imageio.SUPPORTED_NAMES})")
        elif f.kind == "point":
            p.add_argument(f.option, dest=f.name, type=checked(parse_point), metavar="X,Y", help=f.help)
        elif f.kind in ("choice", "model"):
            p.add_argument(f.option, dest=f.name, choices=f.choices or None, default=f.default, help=f.help, **named)
        else:
            p.add_argument(f.option, dest=f.name, type=int if f.kind == "int" else float, default=f.default,
                           choices=f.choices or None, help=f.help, **named)
    p.add_argument(*spec.output, dest="output", required=spec.output_required, metavar=f"OUT{spec.suffix}",
                   help=spec.output_help)
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


def model_opener(args, upscaler):
    """open_model(name, required=True) for the spec's run (experiment.OPEN_MODEL): another model, loaded on
    the same device and precision as the --model."""
    from liif.core.weights import WeightsError, load_weights, resolve_weights
    from liif.render.engine import Upscaler

    def open_model(name, required=True):
        try:
            path = resolve_weights(name)
            if upscaler.weights.path is not None and path.resolve() == upscaler.weights.path.resolve():
                return name, upscaler
            return name, Upscaler(load_weights(path), device=args.device, precision=args.precision)
        except WeightsError:
            if required:
                raise
            return None  # a default that is not here
        except (RuntimeError, ValueError) as exc:
            raise WeightsError(f"{name}: {exc}") from None
    return open_model


def run_experiment(spec, args) -> int:
    import json
    from pathlib import Path

    from liif.core.weights import WeightsError
    from liif.lessons.experiment import MODEL_LABEL, OPEN_MODEL
    from liif.render import imageio

    if args.output and Path(args.output).suffix.lower() != spec.suffix:
        return fail(f"{spec.output[0]} {args.output}: {spec.noun} is written as a {spec.suffix} file, so name a "
                    f"{spec.suffix} file", 2)
    upscaler = make_upscaler(args)
    if upscaler is None:
        return 2
    values = {f.name: getattr(args, f.name) for f in spec.inputs}
    values.update({MODEL_LABEL: args.model or "", OPEN_MODEL: model_opener(args, upscaler)})
    try:
        outcome = spec.run(upscaler, values, out_path=args.output)
        summary = outcome.summary
        if args.json and spec.more_json:
            summary = {**summary, **spec.more_json(outcome, values)}
    except (imageio.ImageInputError, WeightsError) as exc:
        return fail(str(exc), 2)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    picture = next((getattr(args, f.name) for f in spec.inputs if f.kind == "picture"), "")
    print(outcome.markdown.replace("**", ""))
    if outcome.file:
        print(f"{picture} -> {args.output}" + (f" ({outcome.line})" if outcome.line else ""))
    return 0
