"""The page's side of an experiment spec (liif/lessons/experiment.py): the guarded handler every section
calls, and the public API endpoint, both made from the spec.

    outcome = run_experiment(ctx, spec, values, model_name, request, progress)   # a section's handler
    ExperimentEndpoint(ctx, spec).wire()                                          # /<spec.name> for scripts

The guard, in order: the spec's models found on the shelf (`Role`s), their measured speeds (each lock
taken only to time it), the spec's estimate from the picture's header against the page's budget (a refusal
costs no decode and no model work), then every model's lock and the visitor's own encodings for the run. Whatever the visitor's input gets wrong
comes back as one sentence (`said_as_sentence`), never a traceback or a server path.
"""

import gradio as gr

from liif.lessons.experiment import Models, Outcome, picture_size, too_much
from liif.page import limits
from liif.page.context import visitor
from liif.page.widgets import MODEL_WORK, PhotoUpload, said_as_sentence
from liif.render import imageio


def refusal(spec, values, seconds: float, budget: float, speed) -> imageio.ImageInputError:
    """Why the experiment does not start: what it would cost, the limit, and what would fit."""
    if spec.refusal is not None:
        return imageio.ImageInputError(spec.refusal(values, seconds, budget))
    return too_much(spec.noun, *picture_size(values["picture"]), f"take about {seconds:.0f} s of computing here",
                    budget, speed, spec.advice)


def run_experiment(ctx, spec, values: dict, names=None, request=None, progress=None, admit=None) -> Outcome:
    """The spec run for a visitor, inside the page's limits (see the module's docstring). `names`: the shelf's
    name for the visitor's model, or a tuple of names for the spec's roles in order (None: the role finds
    its own). `admit(values, speed)`, when given, is the page's own rule on the inputs, checked from the
    picture's header before the estimate: it returns the values to run with."""
    values = {**spec.defaults(), **values}
    with said_as_sentence():
        if values.get("picture") is None:
            raise imageio.ImageInputError("upload a picture first (or click one of the examples)")
        given = dict(zip((role.name for role in spec.models), names if isinstance(names, tuple) else (names,)))
        found = shelf_names(ctx, spec, values, given)
        speeds = {role.name: ctx.shelf.speed(found[role.name])  # each takes its model's lock itself
                  for role in spec.models if role.required and role.name in found}
        first = speeds[spec.models[0].name]
        budget = limits.budget_seconds(*(speeds[role] for role in spec.floor))
        if admit is not None:
            values = admit(values, first)
        seconds = spec.estimate(speeds, values)
        if seconds > budget:
            raise refusal(spec, values, seconds, budget, first)
        out_path = None
        if spec.output != "none":
            out_path = ctx.outputs.new_path(spec.file_name(values) if spec.file_name else f"{spec.name}{spec.suffix}")
        # Every model's lock at once, each taken once (a blend shares its model's lock), in one order.
        with ctx.shelf.working_together(list(found.values()), visitor(request)) as upscalers:
            opened = {role.name: None for role in spec.models}
            opened.update((role, (ctx.model_label(name), upscaler))
                          for (role, name), upscaler in zip(found.items(), upscalers))
            named = (role for role, name in given.items() if name is not None)
            return spec.run(Models(opened, named), values, progress=progress, out_path=out_path, speeds=speeds,
                            max_seconds=budget)


def shelf_names(ctx, spec, values, given) -> dict:
    """role -> the shelf's name for each model the run gets (None: the default model); an optional model
    that is not here, or not needed for these values, is left out."""
    found = {}
    for role in spec.models:
        if role.json_only or (role.when is not None and not role.when(values)):
            continue
        name = given.get(role.name)
        look_real = role.find in ("average", "sharp")
        if name is None and look_real:
            pair = ctx.shelf.look_real_trained()  # (average, sharp) model names, or None
            name = pair and pair[role.find == "sharp"]
        if name is None and role.find != "":  # a model by name is its section's to choose: it knows the shelf
            if role.required:
                raise imageio.ImageInputError("this page has no model trained to look real" if look_real
                                              else f"this page has no {role.name}")
            continue
        found[role.name] = name
    return found


class ExperimentEndpoint:
    """Hidden components whose event is the experiment's public endpoint `/<name>`: the spec's fields (a point
    as two numbers, x and y) in, (the file it made, its numbers as JSON) out; only the JSON for an experiment
    that makes no file. Options of the command line only keep their defaults. `models()`: the shelf's names
    for an experiment of several models (or gr.Error saying why this server cannot run it); `admit`: as for
    run_experiment."""

    def __init__(self, ctx, spec, models=None, admit=None):
        self.ctx, self.spec, self.models, self.admit = ctx, spec, models, admit
        self.fields = [f for f in spec.inputs if not f.cli_only]
        self.inputs = []
        with gr.Row(visible=False):
            for f in self.fields:
                label = f.label or f.name
                if f.kind == "picture":
                    self.inputs.append(PhotoUpload(label=label, type="filepath", image_mode=None))
                elif f.kind == "point":
                    self.inputs += [gr.Number(None, label="x"), gr.Number(None, label="y")]
                elif f.kind == "choice":
                    self.inputs.append(gr.Dropdown(list(f.choices), value=f.default, label=label))
                elif f.kind == "text":
                    self.inputs.append(gr.Textbox(f.default or "", label=label))
                elif f.kind == "flag":
                    self.inputs.append(gr.Checkbox(bool(f.default), label=label))
                else:
                    self.inputs.append(gr.Number(f.default, label=label))
            if spec.output == "none":
                self.file = None
            elif spec.endpoint_picture:
                self.file = gr.Image(label=f"{spec.noun} ({spec.suffix})", type="filepath", format=spec.suffix[1:])
            else:
                self.file = gr.File(label=f"{spec.noun} ({spec.suffix})")
            self.summary = gr.JSON(label=f"{spec.name} summary")
            self.trigger = gr.Button(spec.name)

    def wire(self):
        outputs = [self.summary] if self.file is None else [self.file, self.summary]
        self.trigger.click(self.call, self.inputs, outputs, api_name=self.spec.name, concurrency_id=MODEL_WORK)

    def values(self, given: tuple) -> dict:
        """The endpoint's positional values as the spec's fields (two numbers back into one point)."""
        given, values = list(given), {}
        for f in self.fields:
            if f.kind == "point":
                x, y = given.pop(0), given.pop(0)
                values[f.name] = None if x is None or y is None else (x, y)
            else:
                value = given.pop(0)
                values[f.name] = f.default if value is None and f.kind != "picture" else value
        return values

    def call(self, *given, request: gr.Request = None):
        names = self.models() if self.models else None
        outcome = run_experiment(self.ctx, self.spec, self.values(given), names, request, admit=self.admit)
        if self.file is None:
            return outcome.summary
        return (str(outcome.file) if outcome.file else None), outcome.summary
