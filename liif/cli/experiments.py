"""`python -m liif <experiment>`: one command per registered experiment (liif/lessons/experiment.py), made
from its spec. The picture is the positional IN, each other field an option, -o the file it writes."""

from functools import partial

from liif import settings
from liif.cli.common import add_device_options, add_model_options, checked, fail, look_real_pair, make_upscaler


def add_experiments(sub):
    from liif.lessons.experiment import experiments

    for spec in experiments():
        add_experiment(sub, spec)


def add_experiment(sub, spec):
    from liif.render import imageio

    p = sub.add_parser(spec.name, help=spec.help, description=spec.description)
    groups = {}
    for f in spec.inputs:
        # Alternatives (`one_of`) share a group, which the command needs when one of them is `required`.
        where, default, required = p, f.default, f.required
        if f.one_of:
            if f.one_of not in groups:
                together = any(g.required for g in spec.inputs if g.one_of == f.one_of)
                groups[f.one_of] = p.add_mutually_exclusive_group(required=together)
            where, default, required = groups[f.one_of], None, False
        metavar = f.metavar or f.label.upper()
        named = {"metavar": metavar} if metavar else {}
        if f.kind == "picture":
            p.add_argument(f.name, metavar=metavar or "IN", help=f.help or f"an image file ({imageio.SUPPORTED_NAMES})")
        elif f.kind == "flag":
            where.add_argument(f.option, dest=f.name, action="store_true", help=f.help)
        elif f.kind in ("choice", "model"):
            where.add_argument(f.option, dest=f.name, choices=f.choices or None, default=default, help=f.help, **named)
        elif f.as_typed or f.kind in ("text", "path"):
            metavar = f.metavar or {"point": "X,Y", "path": "OUT.png"}.get(f.kind)
            where.add_argument(f.option, dest=f.name, default=default, required=required, metavar=metavar,
                               help=f.help)
        elif f.kind == "point":
            where.add_argument(f.option, dest=f.name, type=checked(parse_point), metavar="X,Y", required=required,
                               help=f.help)
        else:
            where.add_argument(f.option, dest=f.name, type=int if f.kind == "int" else float, default=default,
                               choices=f.choices or None, required=required, help=f.help, **named)
    if spec.output != "none":
        p.add_argument(*spec.output_flags, dest="output", required=spec.output == "required",
                       metavar=f"OUT{spec.suffix}", help=spec.output_help)
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    if spec.look_real == "only":  # the pair is the model: named by its sharp half
        p.add_argument("--sharp-model", default="edsr-baseline-gan", metavar="NAME|PATH",
                       help="the model trained to look real; its average-minded twin is the model it was trained from")
        p.add_argument("--precision", choices=["auto", *settings.PRECISIONS], default="auto")
    elif spec.models:
        for m in spec.models:
            p.add_argument(m.option, dest=model_dest(m), default=m.default, help=m.help)
        add_device_options(p)
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


def model_opener(args, upscaler):
    """open_model(name, required=True) for the spec's run (experiment.OPEN_MODEL): a helper model, loaded on
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


def model_dest(model) -> str:
    return model.option.lstrip("-").replace("-", "_")


def load_models(spec, args):
    """((label, Upscaler), ...) for an experiment of several models, in its roles' order; None after printing
    why not."""
    from liif.core.weights import WeightsError
    from liif.render.engine import Upscaler

    try:
        loaded = spec.load_models([getattr(args, model_dest(m)) for m in spec.models])
        return tuple((label, Upscaler(w, device=args.device, precision=args.precision)) for label, w in loaded)
    except (WeightsError, RuntimeError, ValueError) as exc:
        fail(str(exc), 2)
        return None


def run_experiment(spec, args) -> int:
    import json
    from pathlib import Path

    from liif.core.weights import WeightsError
    from liif.lessons.experiment import MODEL_LABEL, OPEN_MODEL
    from liif.render import imageio

    output = getattr(args, "output", None)
    if output is not None and Path(output).suffix.lower() != spec.suffix:
        return fail(f"{spec.output_flags[0]} {output}: {spec.noun} is written as a {spec.suffix} file, so name a "
                    f"{spec.suffix} file", 2)
    models = {}
    try:
        if spec.look_real == "only":
            average, sharp = look_real_pair(args.sharp_model, args.precision)
            upscaler, models["look_real"] = average, (average, sharp)
        else:
            upscaler = load_models(spec, args) if spec.models else make_upscaler(args)
            if upscaler is None:
                return 2
            if spec.look_real == "also":
                models["look_real"] = look_real_pair(precision=args.precision, device=args.device, required=False)
        values = {f.name: getattr(args, f.name) for f in spec.inputs}
        if not spec.models:
            values.update({MODEL_LABEL: getattr(args, "model", None) or "", OPEN_MODEL: model_opener(args, upscaler)})
        outcome = spec.run(upscaler, values, out_path=output, **models)
        summary = outcome.summary
        if args.json and spec.more_json:
            summary = {**summary, **spec.more_json(outcome, values)}
    except (imageio.ImageInputError, WeightsError) as exc:
        return fail(exc.for_command_line() if isinstance(exc, imageio.ImageInputError) else str(exc), 2)
    except OSError as exc:  # a file the command was asked to write
        return fail(f"could not write a file: {exc.strerror or exc}", 1)
    if args.json:
        print(json.dumps(summary, indent=2, default=float))
        return 0
    picture = next((getattr(args, f.name) for f in spec.inputs if f.kind == "picture"), "")
    print(outcome.text or outcome.markdown.replace("**", ""))
    if output is not None:
        print(f"{picture} -> {output}" + (f" ({outcome.line})" if outcome.line else ""))
    return 0
