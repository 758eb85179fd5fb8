"""The scripting API: hidden components whose events are the page's public endpoints (`upscale`, and one per
registered experiment that has one: `answers`, `seen`, `check`, `probe`, `zoom`, `ladder`). Every other event of
the page is private. Each endpoint calls the same library function as the page and the command line, through the same guards
(PhotoUpload, compute limits, per-visitor caches)."""

import gradio as gr

from liif.lessons import check, seen
from liif.lessons.experiment import experiments
from liif.page import limits, session
from liif.page.context import visitor
from liif.page.experiments import ExperimentEndpoint
from liif.page.widgets import MODEL_WORK, PhotoUpload, page_work
from liif.render import imageio, sizes


class ApiSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Row(visible=False):  # the upscaler's endpoint
            self.image = PhotoUpload(label="image", type="filepath", image_mode=None)
            self.scale = gr.Number(4, label="scale")
            self.model = gr.Textbox("", label="model (empty: the default; or rdn, edsr-baseline, edsr-baseline-gan, ...)")
            self.blend = gr.Number(None, label="blend (0 the average .. 1 the sharp guess; empty: none)")
            self.result = gr.Image(label="LIIF output (PNG)", type="filepath", format="png")
            self.summary = gr.JSON(label="summary")
            self.trigger = gr.Button("upscale")
        # One endpoint per registered experiment that has one, made from its spec; seen compares the two models its section found on the shelf, and the probe answers for a pixel of an
        # upscale this page would make.
        hooks = {"seen": {"models": page.seen.model_names, "admit": admit_seen}, "probe": {"admit": admit_probe}}
        self.endpoints = {spec.name: ExperimentEndpoint(self.ctx, spec, **hooks.get(spec.name, {}))
                          for spec in experiments() if spec.endpoint}

    def wire(self):
        for endpoint in self.endpoints.values():
            endpoint.wire()
        self.trigger.click(self.upscale_api, [self.image, self.scale, self.model, self.blend], [self.result, self.summary],
                           api_name="upscale", concurrency_id=MODEL_WORK)

    @page_work
    def upscale_api(self, image, scale, model="", blend=None, request: gr.Request = None):
        """For scripts: (image file, scale, model name, blend) -> (the LIIF output as a lossless PNG, a JSON
        summary). `blend` (0..1) runs the model between the one trained to look real and its twin."""
        shelf = self.ctx.shelf
        owner = visitor(request)
        name = shelf.model_named(model, blend)
        request = limits.prepare(image, scale, speed=shelf.speed(name))
        result = session.run_to_end(shelf, name, request, self.ctx.outputs, owner=owner)
        answer = str(result.png_path), session.summary(result)
        del result
        session.give_back_memory()
        return answer


def admit_probe(values: dict, speed) -> dict:
    """The probe's output size: the upscale this page would make of the picture at that scale, from its header
    (a size or scale the page would refuse is refused here, before anything is decoded)."""
    width, height = imageio.image_size(values["picture"])
    return {**values, "scale": None, "size": limits.output_size_for(width, height, values["scale"], speed=speed)}


def admit_seen(values: dict, speeds) -> dict:
    """A picture enlarged past the page's output limit is refused from its header."""
    scale = check.check_scale(values["scale"])
    width, height = seen.tiny_size(values["picture"], scale)
    sizes.check_output_size(width, height, width * scale, height * scale, max_pixels=limits.max_output_pixels())
    return values
