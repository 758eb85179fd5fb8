"""The page's side of an experiment spec (liif/lessons/experiment.py): the guarded handler every section
calls, and the public API endpoint, both made from the spec.

    outcome = run_experiment(ctx, spec, values, model_name, request, progress)   # a section's handler
    ExperimentEndpoint(ctx, spec).wire()                                          # /<spec.name> for scripts

The guard, in order: the model's measured speed (its lock taken only to time it), the spec's estimate
from the picture's header against the page's budget (a refusal costs no decode and no model work), then
the model's lock and the visitor's own encodings for the run. Whatever the visitor's input gets wrong
comes back as one sentence (`said_as_sentence`), never a traceback or a server path.
"""

import math

import gradio as gr

from liif.lessons.experiment import Outcome, picture_size
from liif.page import limits
from liif.page.context import visitor
from liif.page.widgets import MODEL_WORK, PhotoUpload, said_as_sentence
from liif.render import imageio


def refusal(spec, values, seconds: float, budget: float, speed) -> str:
    """Why the experiment does not start: what it would cost, the limit, and what would fit."""
    width, height = picture_size(values["picture"])
    side = math.isqrt(int(budget / 2 / speed.encoder_seconds_per_pixel))
    return (f"{spec.noun} of this {width}×{height} picture would take about {seconds:.0f} s of computing here; this "
            f"server takes requests of up to {budget:.0f} s. "
            + (spec.advice or f"Shrink the picture to about {side}×{side} pixels first"))


def run_experiment(ctx, spec, values: dict, model_name=None, request=None, progress=None) -> Outcome:
    """The spec run for a visitor, inside the page's limits (see the module's docstring)."""
    values = {**spec.defaults(), **values}
    with said_as_sentence():
        if values.get("picture") is None:
            raise imageio.ImageInputError("upload a picture first (or click one of the examples)")
        pair = ctx.shelf.look_real_trained() if spec.look_real else None  # (average, sharp) model names
        if spec.look_real == "only":
            if pair is None:
                raise imageio.ImageInputError("this page has no model trained to look real")
            model_name = pair[0]
        speed = ctx.shelf.speed(model_name)  # takes the model's lock itself
        budget = limits.budget_seconds(*[speed] * spec.floor_renders)
        seconds = spec.estimate(speed, values)
        if seconds > budget:
            raise imageio.ImageInputError(refusal(spec, values, seconds, budget, speed))
        with ctx.shelf.working_together([model_name, *(pair or ())], visitor(request)) as (upscaler, *both):
            models = {"look_real": tuple(both) or None} if spec.look_real else {}
            return spec.run(upscaler, values, progress=progress,
                            out_path=ctx.outputs.new_path(f"{spec.name}{spec.suffix}"), speed=speed,
                            max_seconds=budget, **models)


class ExperimentEndpoint:
    """Hidden components whose event is the experiment's public endpoint `/<name>`: the spec's fields (a point
    as two numbers, x and y) in, (the file it made, its numbers as JSON) out. Options of the command line
    only keep their defaults."""

    def __init__(self, ctx, spec):
        self.ctx, self.spec = ctx, spec
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
                elif f.kind == "flag":
                    self.inputs.append(gr.Checkbox(bool(f.default), label=label))
                elif f.kind == "text":
                    self.inputs.append(gr.Textbox(f.default or "", label=label))
                else:
                    self.inputs.append(gr.Number(f.default, label=label))
            self.file = (gr.Image(label=spec.picture_label, type="filepath", format="png") if spec.picture_label
                         else gr.File(label=f"{spec.noun} ({spec.suffix})"))
            self.summary = gr.JSON(label=f"{spec.name} summary")
            self.trigger = gr.Button(spec.name)

    def wire(self):
        self.trigger.click(self.call, self.inputs, [self.file, self.summary], api_name=self.spec.name,
                           concurrency_id=MODEL_WORK)

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
        outcome = run_experiment(self.ctx, self.spec, self.values(given), request=request)
        return (str(outcome.file) if outcome.file else None), outcome.summary
