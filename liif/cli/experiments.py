"""`python -m liif <experiment>`: one command per registered experiment (liif/lessons/experiment.py), made
from its spec. The picture is the positional IN, each other field an option, -o the file it writes."""

from functools import partial

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
        elif f.kind == "choice":
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
    for role in spec.models:
        if role.option and role.find != "":
            p.add_argument(role.option, dest=role_dest(role), metavar=role.metavar or None, help=role.help)
    if any(role.find == "" for role in spec.models):
        add_model_options(p)  # the visitor's model: --model, --blend and the device options
    else:
        add_device_options(p)
    p.set_defaults(func=partial(run_experiment, spec))


def parse_point(text):
    from liif.render.imageio import ImageInputError

    try:
        x, y = (float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise ImageInputError(f"a point must be two numbers X,Y, e.g. 30,24, not {text!r}") from None
    return x, y


def role_dest(role) -> str:
    return role.option.lstrip("-").replace("-", "_")


def open_models(spec, args, values):
    """The run's `Models`, loaded on the chosen device: the --model for the visitor's role, a role's option or
    else what its role finds (by name, tag, the look-real pair, or from the models found before it); an
    optional model that is not here is None. None after printing why a model could not be loaded."""
    from liif.core.weights import WeightsError, load_weights, resolve_weights
    from liif.lessons.experiment import Models
    from liif.render.engine import Upscaler

    device, precision = getattr(args, "device", "auto"), args.precision
    chosen = {role.name: getattr(args, role_dest(role)) for role in spec.models if role.option and role.find != ""}
    found, pair = {}, {}
    for role in sorted(spec.models, key=lambda r: callable(r.find)):  # one found from the others' goes last
        name = chosen.get(role.name)
        if (role.json_only and not args.json) or (role.when is not None and not role.when(values)):
            found[role.name] = None
        elif role.find == "":
            upscaler = make_upscaler(args)
            if upscaler is None:
                return None  # make_upscaler said why
            found[role.name] = (getattr(args, "model", None) or "", upscaler)
        else:
            try:
                if role.find in ("average", "sharp"):
                    if not pair:
                        sharp = next((chosen.get(r.name) for r in spec.models if r.find == "sharp"), None)
                        pair["both"] = look_real_pair(sharp or "edsr-baseline-gan", precision, device,
                                                      required=role.required)
                    upscaler = pair["both"] and pair["both"][role.find == "sharp"]
                else:
                    path = resolve_weights(name or (role.find(found) if callable(role.find) else role.find))
                    # a model already loaded (the check's JPEG model when it is the --model) is that one
                    loaded = [u for _, u in filter(None, found.values())
                              if u.weights.path and u.weights.path.resolve() == path.resolve()]
                    upscaler = loaded[0] if loaded else Upscaler(load_weights(path), device=device, precision=precision)
            except WeightsError:
                if role.required or name:
                    raise
                upscaler = None  # a default that is not here
            except (RuntimeError, ValueError) as exc:  # a weights file torch cannot load here
                raise WeightsError(str(exc)) from None
            found[role.name] = upscaler and (name or (upscaler.weights.path.name if upscaler.weights.path else ""),
                                             upscaler)
    return Models({role.name: found[role.name] for role in spec.models}, (r for r, n in chosen.items() if n))


def run_experiment(spec, args) -> int:
    import json
    from pathlib import Path

    from liif.core.weights import WeightsError
    from liif.render import imageio

    output = getattr(args, "output", None)
    if output is not None and Path(output).suffix.lower() != spec.suffix:
        return fail(f"{spec.output_flags[0]} {output}: {spec.noun} is written as a {spec.suffix} file, so name a "
                    f"{spec.suffix} file", 2)
    try:
        values = {f.name: getattr(args, f.name) for f in spec.inputs}
        models = open_models(spec, args, values)
        if models is None:
            return 2
        outcome = spec.run(models, values, out_path=output)
        summary = outcome.summary
        if args.json and spec.more_json:
            summary = {**summary, **spec.more_json(outcome, values, models)}
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
